namespace Loom.Tokenizers.PostProcessor;

/// <summary>
/// One piece of a post-processing template: a special token (<see cref="SpecialToken"/> set) or a sequence
/// (<see cref="Sequence"/> 0 for A, 1 for B), with the token type id it gets (HF's Piece).
/// </summary>
public sealed record TemplatePiece(string? SpecialToken, int Sequence, int TypeId)
{
    /// <summary>A special-token piece, e.g. "[CLS]:0".</summary>
    public static TemplatePiece Special(string token, int typeId) => new(token, -1, typeId);

    /// <summary>A sequence piece: 0 is $A, 1 is $B.</summary>
    public static TemplatePiece Input(int sequence, int typeId) => new(null, sequence, typeId);

    /// <inheritdoc />
    public override string ToString() => SpecialToken is null ? $"${(Sequence == 0 ? 'A' : 'B')}:{TypeId}" : $"{SpecialToken}:{TypeId}";
}
