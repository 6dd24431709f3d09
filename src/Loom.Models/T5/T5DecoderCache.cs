// The decoder state of one T5 generation (transformers' past_key_values for T5: per decoder block,
// the self-attention keys/values so far and the cross-attention keys/values of the encoder output),
// plus every per-step scratch row, in one planned block sized when the source is encoded: a decode
// step allocates nothing.
using Loom.Models.Plans;

namespace Loom.Models.T5;

/// <summary>Cached keys and values of <see cref="Rows"/> T5 hypotheses over one encoded source.</summary>
public sealed class T5DecoderCache : ActivationPlan, ISeq2SeqDecoderCache
{
    internal readonly T5Model Owner;
    internal readonly int S;                                         // source length
    internal readonly ActivationRegion[] SelfK, SelfV;               // per decoder block: (R, NH, Cap, dk)
    internal readonly ActivationRegion[] CrossK, CrossV;             // per decoder block: (NH, S, dk)
    internal readonly ActivationRegion X, Ln, Out;                   // (R, C) residual stream, a norm's output, the final (scaled) hidden state
    internal readonly ActivationRegion Rstd;                         // (R)
    internal readonly ActivationRegion QRow, KRow, VRow, Ctx;        // (R, NH·dk)
    internal readonly ActivationRegion Scores;                       // (max(Cap, S))
    internal readonly ActivationRegion Bias;                         // (NH, Cap) this position's self-attention bias
    internal readonly ActivationRegion Pre, Up, Act;                 // (R, F)
    internal readonly ActivationRegion Logits;                       // (R, V)
    internal readonly ActivationRegion SourceRows;                   // (S, NH·dk) the encoder's k or v rows while encoding
    internal readonly ActivationRegion Moved;                        // (R, NH, Cap, dk) reorder scratch

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Capacity { get; }

    /// <inheritdoc/>
    public int Length { get; internal set; }

    internal T5DecoderCache(T5Model owner, T5Config c, int rows, int capacity, int sourceLength)
    {
        Owner = owner;
        Rows = rows; Capacity = capacity; S = sourceLength;
        long R = rows, Cap = capacity, NH = c.NumHeads, dk = c.DKv, I = c.InnerDim, C = c.DModel, F = c.DFf;
        int L = c.NumDecoderLayers;
        SelfK = new ActivationRegion[L]; SelfV = new ActivationRegion[L]; CrossK = new ActivationRegion[L]; CrossV = new ActivationRegion[L];
        for (int l = 0; l < L; l++)
        {
            SelfK[l] = Add(R * NH * Cap * dk); SelfV[l] = Add(R * NH * Cap * dk);
            CrossK[l] = Add(NH * S * dk); CrossV[l] = Add(NH * S * dk);
        }
        X = Add(R * C); Ln = Add(R * C); Out = Add(R * C); Rstd = Add(R);
        QRow = Add(R * I); KRow = Add(R * I); VRow = Add(R * I); Ctx = Add(R * I);
        Scores = Add(Math.Max(Cap, S));
        Bias = Add(NH * Cap);
        Pre = Add(R * F); Up = c.IsGated ? Add(R * F) : default; Act = Add(R * F);
        Logits = Add(R * c.VocabSize);
        SourceRows = Add(S * I);
        Moved = Add(R * NH * Cap * dk);
        Allocate();
    }

    /// <inheritdoc/>
    public void Reorder(ReadOnlySpan<int> sourceRows)
    {
        if (sourceRows.Length != Rows) throw new ArgumentException($"Reorder needs one source row per row ({Rows}); got {sourceRows.Length}.");
        foreach (int r in sourceRows)
            if ((uint)r >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(sourceRows), $"Row {r} is outside the cache's {Rows} rows.");
        int block = this[SelfK[0]].Length / Rows;   // NH·Cap·dk floats per row
        var moved = this[Moved];
        for (int i = 0; i < 2 * SelfK.Length; i++)
        {
            var kv = this[i < SelfK.Length ? SelfK[i] : SelfV[i - SelfK.Length]];
            for (int r = 0; r < Rows; r++) kv.Slice(sourceRows[r] * block, block).CopyTo(moved.Slice(r * block, block));
            moved.CopyTo(kv);
        }
    }
}
