using Loom.Training.Loop;
using Loom.Training.Masking;

namespace Loom.Training.Tests.Masking;

// The collator against the distribution Hugging Face's DataCollatorForLanguageModeling defines
// (each non-special token chosen with p = 0.15; chosen: [MASK] 0.8, random id 0.1, unchanged 0.1)
// and DataCollatorForWholeWordMask's word rule. Counts over ~10⁶ tokens must fall within 5 standard
// deviations of the binomial mean (a false failure about once in 1.7 million runs; a rate off by
// a tenth of a percentage point fails).
public class MaskedLanguageModelCollatorTests
{
    private const int V = 1000, Cls = 2, Sep = 3, Pad = 0, Mask = 4, Unk = 1;
    private static readonly int[] Specials = [Pad, Unk, Cls, Sep, Mask];

    // Rows of T ids: [CLS] tokens … [SEP], then some [PAD] at the end of every fourth row; ordinary ids in [5, V).
    private static int[] Rows(int batch, int time, Random rng)
    {
        var ids = new int[batch * time];
        for (int b = 0; b < batch; b++)
        {
            var row = ids.AsSpan(b * time, time);
            int pad = b % 4 == 3 ? time / 8 : 0;
            for (int t = 0; t < time; t++) row[t] = rng.Next(5, V);
            row[0] = Cls;
            row[time - 1 - pad] = Sep;
            for (int t = time - pad; t < time; t++) row[t] = Pad;
        }
        return ids;
    }

    private static void AssertBinomial(long successes, long trials, double p, string what)
    {
        double mean = trials * p, sd = Math.Sqrt(trials * p * (1 - p));
        Assert.True(Math.Abs(successes - mean) <= 5 * sd,
            $"{what}: {successes} of {trials} = {(double)successes / trials:F5}; expected {p:F5} ± {5 * sd / trials:F5} (5σ)");
    }

    [Fact]
    public void ChoosesFifteenPercentOfNonSpecialTokensAndReplacesThemEightyTenTen()
    {
        var collator = new MaskedLanguageModelCollator(new MaskedLanguageModelingOptions(), V, Mask, Specials);
        var rng = new SplitMix64(42);
        var data = new Random(7);
        const int B = 32, T = 256, Batches = 128;   // 1,048,576 positions
        long ordinary = 0, chosen = 0, masked = 0, replaced = 0, unchanged = 0, randomSum = 0;
        var labels = new int[B * T];
        for (int n = 0; n < Batches; n++)
        {
            int[] original = Rows(B, T, data);
            int[] inputs = (int[])original.Clone();
            int count = collator.Apply(inputs, labels, B, T, rng);
            int seen = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                bool special = Array.IndexOf(Specials, original[i]) >= 0;
                if (special)
                {
                    // Never chosen, never changed.
                    Assert.Equal(MaskedLanguageModelCollator.IgnoreIndex, labels[i]);
                    Assert.Equal(original[i], inputs[i]);
                    continue;
                }
                ordinary++;
                if (labels[i] == MaskedLanguageModelCollator.IgnoreIndex)
                {
                    Assert.Equal(original[i], inputs[i]);   // not chosen: untouched
                    continue;
                }
                Assert.Equal(original[i], labels[i]);       // the label is the original id
                seen++;
                if (inputs[i] == Mask) masked++;
                else if (inputs[i] == original[i]) unchanged++;
                else { replaced++; randomSum += inputs[i]; }
            }
            Assert.Equal(seen, count);
            chosen += seen;
        }
        AssertBinomial(chosen, ordinary, 0.15, "chosen among non-special tokens");
        // A random id equals [MASK] or the original with chance 1/V each.
        AssertBinomial(masked, chosen, 0.8 + 0.1 / V, "chosen → [MASK]");
        AssertBinomial(replaced, chosen, 0.1 * (V - 2) / V, "chosen → another random id");
        AssertBinomial(unchanged, chosen, 0.1 + 0.1 / V, "chosen → unchanged");
        // Random ids are uniform on [0, V): their mean is (V − 1)/2 with sd sqrt((V² − 1)/12)/sqrt(n) (ids equal to the original or [MASK] aside).
        double meanRandom = (double)randomSum / replaced, sdMean = Math.Sqrt((V * (double)V - 1) / 12 / replaced);
        Assert.True(Math.Abs(meanRandom - (V - 1) / 2.0) <= 5 * sdMean, $"mean random id {meanRandom:F1}, expected {(V - 1) / 2.0} ± {5 * sdMean:F1}");
    }

    [Fact]
    public void OtherProbabilitiesAreHonoured()
    {
        var options = new MaskedLanguageModelingOptions { Probability = 0.4, MaskReplaceProbability = 0.5, RandomReplaceProbability = 0.5 };
        var collator = new MaskedLanguageModelCollator(options, V, Mask, Specials);
        var rng = new SplitMix64(5);
        const int B = 16, T = 128;
        long ordinary = 0, chosen = 0, masked = 0, unchanged = 0;
        var labels = new int[B * T];
        var data = new Random(3);
        for (int n = 0; n < 64; n++)
        {
            int[] original = Rows(B, T, data), inputs = (int[])original.Clone();
            collator.Apply(inputs, labels, B, T, rng);
            for (int i = 0; i < inputs.Length; i++)
            {
                if (Array.IndexOf(Specials, original[i]) >= 0) continue;
                ordinary++;
                if (labels[i] == MaskedLanguageModelCollator.IgnoreIndex) continue;
                chosen++;
                if (inputs[i] == Mask) masked++;
                else if (inputs[i] == original[i]) unchanged++;
            }
        }
        AssertBinomial(chosen, ordinary, 0.4, "chosen");
        AssertBinomial(masked, chosen, 0.5 + 0.5 / V, "[MASK]");
        AssertBinomial(unchanged, chosen, 0.5 / V, "unchanged (only a random id equal to the original)");
    }

    // Words: an id in [5, 500) starts a word, an id in [500, V) is a "##" continuation.
    private static bool IsContinuation(int id) => id >= 500;

    [Fact]
    public void WholeWordMaskingChoosesWholeWordsAndRoundTimesPTokensPerRow()
    {
        var continuations = Enumerable.Range(500, V - 500);
        var collator = new MaskedLanguageModelCollator(new MaskedLanguageModelingOptions { WholeWordMask = true }, V, Mask, Specials, continuations);
        var rng = new SplitMix64(11);
        var data = new Random(5);
        const int B = 32, T = 128, Batches = 96;
        int target = (int)Math.Round(T * 0.15, MidpointRounding.ToEven);   // 19, as HF's max(1, round(len × p))
        long chosen = 0, masked = 0, replaced = 0, unchanged = 0, wordsChosen = 0, words = 0;
        var labels = new int[B * T];
        for (int n = 0; n < Batches; n++)
        {
            // Words of 1 to 4 tokens, about half of them single tokens (so each row can reach its target exactly).
            var ids = new int[B * T];
            for (int b = 0; b < B; b++)
            {
                var row = ids.AsSpan(b * T, T);
                int t = 0;
                row[t++] = Cls;
                if (b % 2 == 1) row[t++] = 600;   // a continuation right after [CLS] is a word of its own
                while (t < T - 1)
                {
                    int len = data.Next(2) == 0 ? 1 : data.Next(2, 5);
                    for (int k = 0; k < len && t < T - 1; k++) row[t++] = k == 0 ? data.Next(5, 500) : data.Next(500, V);
                }
                row[T - 1] = Sep;
            }
            int[] inputs = (int[])ids.Clone();
            collator.Apply(inputs, labels, B, T, rng);
            for (int b = 0; b < B; b++)
            {
                int rowChosen = 0;
                for (int t = 0; t < T; t++)
                {
                    int i = b * T + t, id = ids[i];
                    if (id is Cls or Sep) { Assert.Equal(MaskedLanguageModelCollator.IgnoreIndex, labels[i]); continue; }
                    bool starts = !IsContinuation(id) || ids[i - 1] is Cls or Sep;
                    if (starts)
                    {
                        // The word's tokens are all chosen or none.
                        int end = t + 1;
                        while (end < T && IsContinuation(ids[b * T + end]) && ids[b * T + end - 1] is not (Cls or Sep)) end++;
                        bool first = labels[i] != MaskedLanguageModelCollator.IgnoreIndex;
                        for (int k = t; k < end; k++)
                            Assert.True(first == (labels[b * T + k] != MaskedLanguageModelCollator.IgnoreIndex), $"row {b}: word at {t}..{end} is cut at {k}");
                        words++;
                        if (first) wordsChosen++;
                    }
                    if (labels[i] == MaskedLanguageModelCollator.IgnoreIndex) { Assert.Equal(id, inputs[i]); continue; }
                    Assert.Equal(id, labels[i]);
                    rowChosen++;
                    if (inputs[i] == Mask) masked++;
                    else if (inputs[i] == id) unchanged++;
                    else replaced++;
                }
                Assert.Equal(target, rowChosen);
                chosen += rowChosen;
            }
        }
        Assert.True(wordsChosen > 0 && wordsChosen < words);
        AssertBinomial(masked, chosen, 0.8 + 0.1 / V, "chosen → [MASK]");
        AssertBinomial(replaced, chosen, 0.1 * (V - 2) / V, "chosen → another random id");
        AssertBinomial(unchanged, chosen, 0.1 + 0.1 / V, "chosen → unchanged");
    }

    [Fact]
    public void TheSameSeedGivesTheSameMasksAndASavedStateResumesThem()
    {
        var collator = new MaskedLanguageModelCollator(new MaskedLanguageModelingOptions(), V, Mask, Specials);
        int[] stream = Enumerable.Range(0, 5000).Select(i => 5 + i * 7919 % (V - 5)).ToArray();
        var a = new MaskedLanguageModelBatches(stream, 4, 32, Cls, Sep, collator, seed: 9);
        var b = new MaskedLanguageModelBatches(stream, 4, 32, Cls, Sep, collator, seed: 9);
        var other = new MaskedLanguageModelBatches(stream, 4, 32, Cls, Sep, collator, seed: 10);
        BatchSourceState saved = default;
        var afterSave = new List<(int[], int[])>();
        for (int n = 0; n < 20; n++)
        {
            var x = a.Next();
            var y = b.Next();
            Assert.Equal(x.Inputs, y.Inputs);
            Assert.Equal(x.Targets, y.Targets);
            Assert.Equal(x.RealTokens, x.Targets.Count(t => t != MaskedLanguageModelCollator.IgnoreIndex));
            Assert.NotEqual(x.Targets, other.Next().Targets);
            for (int r = 0; r < 4; r++)
            {
                Assert.Equal(Cls, x.Inputs[r * 32]);
                Assert.Equal(Sep, x.Inputs[r * 32 + 31]);
            }
            if (n == 9) saved = a.State;
            if (n >= 10) afterSave.Add(((int[])x.Inputs.Clone(), (int[])x.Targets.Clone()));
        }
        // A fresh sampler restored to the saved state hands out the very same batches.
        var resumed = new MaskedLanguageModelBatches(stream, 4, 32, Cls, Sep, collator, seed: 123) { State = saved };
        foreach (var (inputs, targets) in afterSave)
        {
            var z = resumed.Next();
            Assert.Equal(inputs, z.Inputs);
            Assert.Equal(targets, z.Targets);
        }
    }

    [Fact]
    public void BadSettingsAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => new MaskedLanguageModelingOptions { Probability = 0 }.Validate("mlm."));
        Assert.Contains("mlm.probability is 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new MaskedLanguageModelingOptions { MaskReplaceProbability = 0.95, RandomReplaceProbability = 0.1 }.Validate("mlm."));
        Assert.Contains("mlm.random_replace_probability", e.Message);
        e = Assert.Throws<ArgumentException>(() => new MaskedLanguageModelingOptions { MaskReplaceProbability = double.NaN }.Validate("mlm."));
        Assert.Contains("mlm.mask_replace_probability is NaN", e.Message);
    }
}
