// One batch of token sequences as every family's body reads it: ids (B·T), and for encoders the
// token types and the attention mask (1 = real token, 0 = padding), each B·T or empty. For causal
// families, position ids (HF's position_ids) pack several documents into one row: each document's
// positions restart at 0 and its tokens attend only to earlier tokens of the same document — the
// block-diagonal causal mask of HF's DataCollatorWithFlattening / TRL's padding_free, which derive
// FlashAttention's varlen cu_seqlens from the positions where position_ids == 0.
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
    /// <summary>
    /// Position of each token within its document, B·T, or empty for 0..T−1 in every row. Each row starts at 0
    /// and every entry is 0 (a new document) or the previous entry + 1.
    /// </summary>
    public ReadOnlySpan<int> PositionIds { get; init; }
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
    /// Checks <see cref="PositionIds"/> and writes, per token, its position and the first key it may attend to
    /// (t − position: its document's first token). False (nothing written) when the batch has no position ids.
    /// </summary>
    internal bool DocumentLayout(Span<int> positions, Span<int> firstVisibleKey, string family)
    {
        if (PositionIds.IsEmpty) return false;
        if (PositionIds.Length != Ids.Length) throw new ArgumentException($"position ids have {PositionIds.Length} elements; B×T = {Ids.Length}.");
        for (int b = 0; b < Batch; b++)
            for (int t = 0; t < Time; t++)
            {
                int i = b * Time + t, p = PositionIds[i];
                if (p != 0 && (t == 0 || p != PositionIds[i - 1] + 1))
                    throw new ArgumentException($"{family}: position id {p} at row {b}, position {t} neither starts a document (0) nor follows the previous id ({(t == 0 ? "none: a row starts at 0" : PositionIds[i - 1].ToString())}); packed documents count 0, 1, 2, ... each.");
                positions[i] = p;
                firstVisibleKey[i] = t - p;
            }
        return true;
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
