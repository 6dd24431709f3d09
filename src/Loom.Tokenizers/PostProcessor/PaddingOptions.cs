namespace Loom.Tokenizers.PostProcessor;

/// <summary>Padding (HF's PaddingParams): to the longest encoding of a batch, or to a fixed length.</summary>
public sealed record PaddingOptions
{
    /// <summary>Pad to this length; null (default) pads to the longest encoding of the batch (HF's BatchLongest).</summary>
    public int? Length { get; init; }

    /// <summary>Round the padded length up to a multiple of this (0 or null: no rounding).</summary>
    public int? PadToMultipleOf { get; init; }

    /// <summary>Id of the padding token. Default 0 (BERT's [PAD]).</summary>
    public int PadId { get; init; }

    /// <summary>Token type id of padding. Default 0.</summary>
    public int PadTypeId { get; init; }

    /// <summary>Text of the padding token. Default "[PAD]".</summary>
    public string PadToken { get; init; } = "[PAD]";

    /// <summary>Pad before the tokens instead of after. Default false (right padding).</summary>
    public bool Left { get; init; }
}
