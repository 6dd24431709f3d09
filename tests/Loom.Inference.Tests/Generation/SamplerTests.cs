using Loom.Inference.Generation;

namespace Loom.Inference.Tests.Generation;

public class SamplerTests
{
    private static readonly float[] Logits = [1f, 3f, 2f, 0.5f, 2.9f];

    [Fact]
    public void TemperatureZeroIsArgMax() => Assert.Equal(1, new Sampler(new SamplingOptions()).Next(Logits, []));

    [Fact]
    public void TopKOneIsArgMaxAtAnyTemperature()
    {
        var s = new Sampler(new SamplingOptions { Temperature = 5f, TopK = 1, Seed = 3 });
        for (int i = 0; i < 50; i++) Assert.Equal(1, s.Next(Logits, []));
    }

    [Fact]
    public void TopKAndTopPRestrictTheCandidates()
    {
        var k2 = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 2, Seed = 1 });
        var seen = Enumerable.Range(0, 300).Select(_ => k2.Next(Logits, [])).ToHashSet();
        Assert.Equal(new HashSet<int> { 1, 4 }, seen);
        // p(1) ≈ 0.38 and p(4) ≈ 0.35: top-p 0.5 keeps exactly those two.
        var p = new Sampler(new SamplingOptions { Temperature = 1f, TopP = 0.5f, Seed = 1 });
        Assert.Equal(new HashSet<int> { 1, 4 }, Enumerable.Range(0, 300).Select(_ => p.Next(Logits, [])).ToHashSet());
    }

    [Fact]
    public void FrequenciesFollowTheSoftmax()
    {
        var s = new Sampler(new SamplingOptions { Temperature = 1f, Seed = 42 });
        var counts = new int[Logits.Length];
        const int n = 20000;
        for (int i = 0; i < n; i++) counts[s.Next(Logits, [])]++;
        double z = Logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < Logits.Length; i++)
            Assert.True(Math.Abs(counts[i] / (double)n - Math.Exp(Logits[i]) / z) < 0.015, $"token {i}: {counts[i] / (double)n} vs {Math.Exp(Logits[i]) / z}");
    }

    [Fact]
    public void RepetitionPenaltyDemotesSeenTokens()
    {
        var s = new Sampler(new SamplingOptions { RepetitionPenalty = 2f });
        Assert.Equal(4, s.Next(Logits, [1])); // 3/2 = 1.5 < 2.9
    }

    [Fact]
    public void SameSeedSameDraws()
    {
        var o = new SamplingOptions { Temperature = 1f, Seed = 9 };
        var a = new Sampler(o); var b = new Sampler(o);
        Assert.Equal(Enumerable.Range(0, 50).Select(_ => a.Next(Logits, [])), Enumerable.Range(0, 50).Select(_ => b.Next(Logits, [])));
    }

    [Fact]
    public void BadSettingsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { TopP = 0f }));
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { Temperature = -1f }));
    }
}
