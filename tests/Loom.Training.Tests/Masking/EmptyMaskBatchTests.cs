using Loom.Training.Masking;

namespace Loom.Training.Tests.Masking;

// Adversarial finding 10: a masked-LM batch in which no token is chosen has no loss (HF's collator gives
// NaN), and was logged as loss 0. The chance of such a batch is (1 − p)^(B·(T − 2)) for per-token selection.
public class EmptyMaskBatchTests
{
    private const int V = 1000, Cls = 2, Sep = 3, Pad = 0, Mask = 4, Unk = 1;
    private static readonly int[] Specials = [Pad, Unk, Cls, Sep, Mask];
    private static readonly int[] Stream = Enumerable.Range(0, 5000).Select(i => 5 + i * 7919 % (V - 5)).ToArray();

    [Fact]
    public void SettingsWhereManyBatchesMaskNothingAreRefusedNamingTheSettings()
    {
        var collator = new MaskedLanguageModelCollator(new MaskedLanguageModelingOptions(), V, Mask, Specials);
        // B = 4, T = 3: 4 maskable tokens, 0.85⁴ = 52% of the batches would mask nothing.
        var e = Assert.Throws<ArgumentException>(() => new MaskedLanguageModelBatches(Stream, 4, 3, Cls, Sep, collator, seed: 1));
        Assert.Contains("train.sequence_length 3", e.Message);
        Assert.Contains("train.batch_size 4", e.Message);
        Assert.Contains("52%", e.Message);
        Assert.Contains("at least 29", e.Message);   // ceil(ln 0.01 / ln 0.85) = 29 tokens per batch
        // 1 × 30 tokens: 0.85³⁰ = 0.76% ≤ 1%, accepted.
        _ = new MaskedLanguageModelBatches(Stream, 1, 32, Cls, Sep, collator, seed: 1);
    }

    [Fact]
    public void EveryBatchHasAtLeastOnePredictedToken()
    {
        // At 0.76% per batch, 3,000 independent batches hold ~23 empty ones unless they are redrawn.
        var collator = new MaskedLanguageModelCollator(new MaskedLanguageModelingOptions(), V, Mask, Specials);
        var batches = new MaskedLanguageModelBatches(Stream, 1, 32, Cls, Sep, collator, seed: 7);
        for (int n = 0; n < 3000; n++)
        {
            var b = batches.Next();
            Assert.True(b.RealTokens > 0, $"batch {n} predicts nothing");
            Assert.Equal(b.RealTokens, b.Targets.Count(t => t != MaskedLanguageModelCollator.IgnoreIndex));
        }
    }
}
