// T5 span corruption against Hugging Face's algorithm (run_t5_mlm_flax.py), as implemented with
// numpy by Fixtures/seq2seq/make_span_fixture.py: the window/target lengths of
// compute_input_and_target_lengths, the sentinel filling of create_sentinel_ids + filter_input_ids
// for numpy-drawn masks, and — since the shuffle cannot be replayed from C# — the distribution of
// the masks: each position's chance of being noise and the span-length histogram, from 100,000
// numpy masks against 20,000 of ours, within 5 standard deviations of the difference of two binomials.
using System.Text.Json;
using Loom.Training.Loop;
using Loom.Training.Seq2Seq;

namespace Loom.Training.Tests.Seq2Seq;

public class SpanCorruptionTests
{
    private static readonly Lazy<JsonElement> s_fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "seq2seq", "span_fixture.json"))).RootElement);

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Fact]
    public void LengthsEqualComputeInputAndTargetLengths()
    {
        int n = 0;
        foreach (var row in s_fixture.Value.GetProperty("lengths").EnumerateArray())
        {
            var (tokens, targets) = SpanCorruption.ComputeInputAndTargetLengths(row.GetProperty("inputs_length").GetInt32(),
                row.GetProperty("noise_density").GetDouble(), row.GetProperty("mean_noise_span_length").GetDouble());
            Assert.Equal(row.GetProperty("tokens_length").GetInt32(), tokens);
            Assert.Equal(row.GetProperty("targets_length").GetInt32(), targets);
            n++;
        }
        Assert.Equal(50, n);
        // The paper's/HF's headline case: 512 encoder inputs come from 568 tokens, with 114 targets.
        Assert.Equal((568, 114), SpanCorruption.ComputeInputAndTargetLengths(512, 0.15, 3.0));
    }

    [Fact]
    public void SentinelFillingEqualsHuggingFaceForNumpyMasks()
    {
        int n = 0;
        foreach (var row in s_fixture.Value.GetProperty("fills").EnumerateArray())
        {
            int[] ids = Ints(row.GetProperty("ids"));
            bool[] mask = Ints(row.GetProperty("mask")).Select(m => m != 0).ToArray();
            int first = row.GetProperty("vocab_len").GetInt32() - 1, eos = row.GetProperty("eos").GetInt32();
            var inputs = new int[ids.Length + 1];
            var labels = new int[ids.Length + 1];
            var (i, t) = SpanCorruption.Fill(ids, mask, first, eos, inputs, labels);
            Assert.Equal(Ints(row.GetProperty("input_ids")), inputs[..i]);
            Assert.Equal(Ints(row.GetProperty("labels")), labels[..t]);
            // The mask numpy drew has the counts random_spans_noise_mask fixes for this length.
            var (noise, spans) = SpanCorruption.NoiseCounts(ids.Length, row.GetProperty("noise_density").GetDouble(), row.GetProperty("mean_noise_span_length").GetDouble());
            Assert.Equal(noise, mask.Count(m => m));
            Assert.Equal(spans, Enumerable.Range(0, mask.Length).Count(p => mask[p] && (p == 0 || !mask[p - 1])));
            n++;
        }
        Assert.Equal(18, n);
    }

    [Fact]
    public void PaperFigure2Example()
    {
        // Raffel et al. 2020, Figure 2: "Thank you <X> me to your party <Y> week." → "<X> for inviting <Y> last <Z>".
        string[] words = ["Thank", "you", "for", "inviting", "me", "to", "your", "party", "last", "week."];
        bool[] noise = [false, false, true, true, false, false, false, false, true, false];
        const int X = 99, Eos = 1;   // <extra_id_0> = 99, <extra_id_1> = 98, <extra_id_2> = 97
        int[] ids = Enumerable.Range(10, words.Length).ToArray();
        var inputs = new int[16];
        var labels = new int[16];
        var (i, t) = SpanCorruption.Fill(ids, noise, X, Eos, inputs, labels);
        Assert.Equal(new[] { 10, 11, X, 14, 15, 16, 17, X - 1, 19, Eos }, inputs[..i]);
        Assert.Equal(new[] { X, 12, 13, X - 1, 18, X - 2, Eos }, labels[..t]);
    }

    [Fact]
    public void MaskDistributionMatchesHuggingFace()
    {
        foreach (var row in s_fixture.Value.GetProperty("stats").EnumerateArray())
        {
            int length = row.GetProperty("length").GetInt32();
            var options = new SpanCorruptionOptions { NoiseDensity = row.GetProperty("noise_density").GetDouble(), MeanNoiseSpanLength = row.GetProperty("mean_noise_span_length").GetDouble() };
            var collator = new SpanCorruptionCollator(options, length, firstSentinelId: 999, sentinelCount: 100, eosId: 1);
            Assert.Equal(row.GetProperty("noise_tokens").GetInt32(), collator.NoiseTokens);
            Assert.Equal(row.GetProperty("noise_spans").GetInt32(), collator.NoiseSpans);
            int reference = row.GetProperty("samples").GetInt32();
            const int Samples = 20000;
            var rng = new SplitMix64(5);
            var positions = new long[length];
            var spanLengths = new long[length + 1];
            long spansSeen = 0;
            for (int s = 0; s < Samples; s++)
            {
                var mask = collator.DrawMask(rng);
                // Exact per mask: the counts are fixed by the length, and every mask starts with non-noise.
                Assert.False(mask[0]);
                int noise = 0, spans = 0, run = 0;
                for (int p = 0; p < length; p++)
                {
                    if (mask[p]) { positions[p]++; noise++; run++; if (p == 0 || !mask[p - 1]) spans++; }
                    if (run > 0 && (!mask[p] || p == length - 1)) { spanLengths[run]++; run = 0; }
                }
                Assert.Equal(collator.NoiseTokens, noise);
                Assert.Equal(collator.NoiseSpans, spans);
                spansSeen += spans;
            }
            double[] hfPositions = row.GetProperty("position_noise_frequency").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            for (int p = 0; p < length; p++)
                AssertSameRate(positions[p], Samples, hfPositions[p], reference, $"length {length}: P(position {p} is noise)");
            double[] hfSpans = row.GetProperty("span_length_frequency").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            long hfSpanCount = (long)reference * collator.NoiseSpans;
            for (int l = 1; l <= length; l++)
                AssertSameRate(spanLengths[l], spansSeen, hfSpans[l], hfSpanCount, $"length {length}: P(span length {l})");
        }
    }

    // Two binomial proportions agree within 5σ of their difference (plus one count of slack for rates near 0).
    private static void AssertSameRate(long ours, long trials, double reference, long referenceTrials, string what)
    {
        double p = (double)ours / trials;
        double pooled = (ours + reference * referenceTrials) / (trials + referenceTrials);
        double sd = Math.Sqrt(pooled * (1 - pooled) * (1.0 / trials + 1.0 / referenceTrials));
        Assert.True(Math.Abs(p - reference) <= 5 * sd + 1.0 / trials, $"{what}: ours {p:F5}, Hugging Face's {reference:F5} (5σ = {5 * sd:F5})");
    }

    [Fact]
    public void BatchesHoldCorruptedWindowsShiftedLabelsAndResumeExactly()
    {
        int[] tokens = Enumerable.Range(0, 5000).Select(i => 2 + (i * 7919) % 90).ToArray();
        var (window, targets) = SpanCorruption.ComputeInputAndTargetLengths(32, 0.15, 3.0);
        var collator = new SpanCorruptionCollator(new SpanCorruptionOptions(), window, firstSentinelId: 127, sentinelCount: 28, eosId: 1);
        Assert.Equal(32, collator.InputsLength);
        Assert.Equal(targets, collator.TargetsLength);
        var batches = new SpanCorruptionBatches(tokens, 3, collator, decoderStartId: 0, padId: 0, seed: 11);
        batches.Next();
        var saved = batches.State;
        var b = batches.Next();
        var src = b.Sources!.Value;
        Assert.Equal(32, src.Time);
        Assert.Equal(new[] { 32, 32, 32 }, src.Lengths);
        int[] inputs = (int[])src.Ids.Clone(), labels = (int[])b.Targets.Clone(), decoder = (int[])b.Inputs.Clone();
        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(0, decoder[r * targets]);
            for (int t = 1; t < targets; t++) Assert.Equal(labels[r * targets + t - 1], decoder[r * targets + t]);
            Assert.Equal(1, inputs[r * 32 + 31]);
            Assert.Equal(1, labels[r * targets + targets - 1]);
            Assert.Equal(127, labels[r * targets]);   // the targets open with <extra_id_0>
            // Undoing the corruption (each input sentinel replaced by the label span behind the same sentinel) gives a window of the stream.
            var restored = new List<int>();
            for (int i = 0; i < 31; i++)
            {
                int id = inputs[r * 32 + i];
                if (id > 100)
                {
                    int at = Array.IndexOf(labels, id, r * targets, targets) + 1;
                    while (labels[at] <= 100 && labels[at] != 1) restored.Add(labels[at++]);
                }
                else restored.Add(id);
            }
            Assert.Equal(window, restored.Count);
            Assert.Contains(Enumerable.Range(0, tokens.Length - window + 1), s => tokens.AsSpan(s, window).SequenceEqual(restored.ToArray()));
        }
        batches.State = saved;
        var again = batches.Next();
        Assert.Equal(inputs, again.Sources!.Value.Ids);
        Assert.Equal(labels, again.Targets);
        Assert.Equal(decoder, again.Inputs);
    }
}
