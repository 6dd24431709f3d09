// One batch of token sequences as every family's body reads it: ids (B·T), and for encoders the
// token types and the attention mask (1 = real token, 0 = padding), each B·T or empty.
namespace Loom.Models;

/// <summary>Inputs of a forward pass over <see cref="Batch"/> sequences of <see cref="Time"/> tokens.</summary>
public readonly ref struct TokenBatch
{
    /// <summary>Token ids, B·T.</summary>
    public ReadOnlySpan<int> Ids { get; }
    /// <summary>Segment ids (BERT's token_type_ids), B·T, or empty for all zero.</summary>
    public ReadOnlySpan<int> TokenTypes { get; init; }
    /// <summary>1 for a real token, 0 for padding, B·T, or empty for no padding.</summary>
    public ReadOnlySpan<int> AttentionMask { get; init; }
    public int Batch { get; }
    public int Time { get; }

    public TokenBatch(ReadOnlySpan<int> ids, int batch, int time)
    {
        if (batch < 1 || time < 1) throw new ArgumentException($"A batch needs B ≥ 1 and T ≥ 1; got B = {batch}, T = {time}.");
        if (ids.Length != (long)batch * time) throw new ArgumentException($"ids has {ids.Length} elements; B×T = {(long)batch * time}.");
        Ids = ids;
        Batch = batch;
        Time = time;
    }

    /// <summary>
    /// For causal families, which attend only to earlier positions: padding must come after the real
    /// tokens of each row (right padding), so it cannot change their hidden states.
    /// </summary>
    internal void RequireRightPadding(string family)
    {
        if (AttentionMask.IsEmpty) return;
        if (AttentionMask.Length != Ids.Length) throw new ArgumentException($"attention mask has {AttentionMask.Length} elements; B×T = {Ids.Length}.");
        for (int b = 0; b < Batch; b++)
        {
            var row = AttentionMask.Slice(b * Time, Time);
            int real = row.IndexOf(0);
            if (real >= 0 && row[real..].ContainsAnyExcept(0))
                throw new NotSupportedException($"{family} is causal and reads padding only after the real tokens (right padding); row {b} of the attention mask has a real token after padding.");
        }
    }
}
