// Sampler.Probabilities against a naive reference written here from the definitions (vLLM's order:
// logit_bias, repetition penalty over prompt and output, presence/frequency over the output,
// temperature, min_p, top-k, top-p over the renormalised survivors), in double precision with a plain
// LINQ sort, over random logits and many combinations of settings.
using Loom.Inference.Generation;

namespace Loom.Inference.Tests.Generation;

public class SamplerReferenceTests
{
    private static double[] Reference(float[] logits, int[] prompt, int[] generated, SamplingOptions o)
    {
        int v = logits.Length;
        var x = logits.Select(l => (double)l).ToArray();
        if (o.LogitBias != null) foreach (var (id, b) in o.LogitBias) x[id] += b;
        foreach (int t in prompt.Concat(generated).Distinct())
            x[t] = x[t] > 0 ? x[t] / o.RepetitionPenalty : x[t] * o.RepetitionPenalty;
        foreach (var g in generated.GroupBy(t => t))
            x[g.Key] -= o.FrequencyPenalty * g.Count() + o.PresencePenalty;
        if (o.Temperature == 0)
        {
            int best = Enumerable.Range(0, v).OrderByDescending(i => x[i]).ThenBy(i => i).First();
            return Enumerable.Range(0, v).Select(i => i == best ? 1.0 : 0.0).ToArray();
        }
        double max = x.Max();
        var p = x.Select(l => Math.Exp((l - max) / o.Temperature)).ToArray();
        double z = p.Sum();
        p = p.Select(q => q / z).ToArray();
        double pmax = p.Max();
        for (int i = 0; i < v; i++) if (p[i] < o.MinP * pmax) p[i] = 0;
        var order = Enumerable.Range(0, v).Where(i => p[i] > 0).OrderByDescending(i => p[i]).ThenBy(i => i).ToList();
        if (o.TopK > 0) order = order.Take(o.TopK).ToList();
        if (o.TopP < 1)
        {
            double kept = order.Sum(i => p[i]), cum = 0;
            var nucleus = new List<int>();
            foreach (int i in order) { nucleus.Add(i); cum += p[i] / kept; if (cum >= o.TopP) break; }
            order = nucleus;
        }
        var keep = order.ToHashSet();
        for (int i = 0; i < v; i++) if (!keep.Contains(i)) p[i] = 0;
        double total = p.Sum();
        return p.Select(q => q / total).ToArray();
    }

    public static IEnumerable<object[]> Settings()
    {
        yield return [new SamplingOptions { Temperature = 1f }];
        yield return [new SamplingOptions { Temperature = 0.7f, TopK = 7 }];
        yield return [new SamplingOptions { Temperature = 1.3f, TopP = 0.6f }];
        yield return [new SamplingOptions { Temperature = 1f, TopK = 10, TopP = 0.5f }];
        yield return [new SamplingOptions { Temperature = 1f, MinP = 0.2f }];
        yield return [new SamplingOptions { Temperature = 0.5f, MinP = 0.05f, TopK = 20, TopP = 0.9f }];
        yield return [new SamplingOptions { Temperature = 1f, RepetitionPenalty = 1.7f }];
        yield return [new SamplingOptions { Temperature = 1f, PresencePenalty = 1.5f, FrequencyPenalty = 0.8f }];
        yield return [new SamplingOptions { Temperature = 1f, PresencePenalty = -1f, FrequencyPenalty = -0.5f, RepetitionPenalty = 0.8f }];
        yield return [new SamplingOptions { Temperature = 0.9f, LogitBias = new Dictionary<int, float> { [3] = 5f, [10] = -100f, [40] = 2.5f } }];
        yield return [new SamplingOptions { Temperature = 0f, RepetitionPenalty = 3f, FrequencyPenalty = 2f, LogitBias = new Dictionary<int, float> { [1] = 1f } }];
    }

    [Theory, MemberData(nameof(Settings))]
    public void TheDistributionEqualsTheNaiveReference(SamplingOptions options)
    {
        var rng = new Random(17);
        var sampler = new Sampler(options);
        for (int trial = 0; trial < 20; trial++)
        {
            int v = 64;
            var logits = Enumerable.Range(0, v).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
            int[] prompt = Enumerable.Range(0, 6).Select(_ => rng.Next(v)).ToArray();
            int[] generated = Enumerable.Range(0, 9).Select(_ => rng.Next(v / 4)).ToArray();   // repeats, so counts > 1
            var want = Reference(logits, prompt, generated, options);
            var got = new float[v];
            int greedy = sampler.Probabilities(logits, prompt, generated, got);
            for (int i = 0; i < v; i++)
                Assert.True(Math.Abs(got[i] - want[i]) <= 1e-5, $"trial {trial}, token {i}: reference {want[i]:R}, sampler {got[i]:R}");
            if (options.Temperature == 0) Assert.Equal(Array.IndexOf(want, 1.0), greedy);
            // A draw is always a token the reference keeps.
            int drawn = sampler.Next(logits, prompt, generated);
            Assert.True(want[drawn] > 0, $"drew token {drawn}, which the reference masks");
        }
    }

    [Fact]
    public void DrawsFollowTheMaskedDistribution()
    {
        var options = new SamplingOptions { Temperature = 1f, TopK = 4, MinP = 0.1f, Seed = 5 };
        var logits = new float[] { 2f, 1.5f, 1f, 0.2f, -1f, 1.9f, 0.1f };
        var want = Reference(logits, [], [], options);
        var s = new Sampler(options);
        var counts = new int[logits.Length];
        const int n = 20000;
        for (int i = 0; i < n; i++) counts[s.Next(logits, [])]++;
        for (int i = 0; i < logits.Length; i++)
            Assert.True(Math.Abs(counts[i] / (double)n - want[i]) < 0.015, $"token {i}: drawn {counts[i] / (double)n}, reference {want[i]}");
    }

    [Fact]
    public void LogSoftmaxIsTheLogOfTheSoftmax()
    {
        var logits = new float[] { 3f, -2f, 0.5f, 10f };
        var lp = new float[4];
        Sampler.LogSoftmax(logits, lp);
        double z = logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < 4; i++) Assert.Equal(Math.Log(Math.Exp(logits[i]) / z), lp[i], 5);
    }

    [Fact]
    public void NewSettingsAreValidatedByName()
    {
        Assert.Contains("MinP", Assert.Throws<ArgumentException>(() => new SamplingOptions { MinP = 1.5f }.Validate()).Message);
        Assert.Contains("PresencePenalty", Assert.Throws<ArgumentException>(() => new SamplingOptions { PresencePenalty = float.NaN }.Validate()).Message);
        Assert.Contains("frequency_penalty", Assert.Throws<ArgumentException>(() => new SamplingOptions { FrequencyPenalty = 3 }.Validate(n => n == "FrequencyPenalty" ? "frequency_penalty" : n)).Message);
        Assert.Contains("[-100, 100]", Assert.Throws<ArgumentException>(() => new SamplingOptions { LogitBias = new Dictionary<int, float> { [1] = -200 } }.Validate()).Message);
        Assert.Contains("TopLogprobs", Assert.Throws<ArgumentException>(() => new SamplingOptions { TopLogprobs = 21 }.Validate()).Message);
        Assert.Contains("StopTokenIds", Assert.Throws<ArgumentException>(() => new SamplingOptions { StopTokenIds = [-1] }.Validate()).Message);
    }
}
