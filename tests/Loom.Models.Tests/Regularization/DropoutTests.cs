// Dropout: masks drop the asked fraction and rescale the rest; the same seed and step give the same
// mask; models apply it only in training mode; the backward through fixed masks matches finite
// differences of the loss, and activation checkpointing regenerates the masks bit for bit.
using Loom.Models.Gpt2;
using Loom.Models.Regularization;

namespace Loom.Models.Tests.Regularization;

public class DropoutTests
{
    [Fact]
    public void MasksDropTheAskedFractionAndRescaleTheRest()
    {
        var mask = new float[200_000];
        Dropout.FillMask(mask, 0.3f, 7, 1);
        double dropped = mask.Count(m => m == 0) / (double)mask.Length;
        Assert.InRange(dropped, 0.3 - 0.005, 0.3 + 0.005);   // 5σ of a binomial at n = 2·10⁵ is 0.0051
        Assert.All(mask.Where(m => m != 0), m => Assert.Equal(1f / 0.7f, m));
        var again = new float[mask.Length];
        Dropout.FillMask(again, 0.3f, 7, 1);
        Assert.Equal(mask, again);
        Dropout.FillMask(again, 0.3f, 7, 2);
        Assert.NotEqual(mask, again);
        Dropout.FillMask(again, 0f, 7, 2);
        Assert.All(again, m => Assert.Equal(1f, m));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.FillMask(again, 1f, 7, 2));
    }

    public static TheoryData<string> Families => new() { "gpt2", "bert" };

    private static readonly ModelOptions WithDropout = new() { Dropout = new DropoutOptions { Hidden = 0.3f, Seed = 11 } };

    [Theory]
    [MemberData(nameof(Families))]
    public void DropoutIsOffOutsideTrainingModeAndOnInIt(string family)
    {
        using var plain = new FixtureModel(family);
        using var drop = new FixtureModel(family, WithDropout);
        var mode = (ITrainingMode)drop.Model;
        Assert.False(mode.IsTraining);
        Assert.Equal(plain.Forward(), drop.Forward());
        Assert.Equal(plain.Logits(), drop.Logits());
        mode.IsTraining = true;
        float a = drop.Forward();
        Assert.NotEqual(plain.Forward(), a);
        Assert.Equal(a, drop.Forward());            // the same step draws the same masks
        drop.Backward();
        Assert.Equal(1UL, mode.DropoutStep);
        Assert.NotEqual(a, drop.Forward());         // a new step, new masks
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void BackwardThroughTheMasksMatchesFiniteDifferences(string family)
    {
        using var f = new FixtureModel(family, WithDropout);
        var mode = (ITrainingMode)f.Model;
        mode.IsTraining = true;
        mode.DropoutStep = 5;
        f.Parameters.ZeroGradients();
        f.Forward();
        f.Backward();
        mode.DropoutStep = 5;   // finite differences under the same masks
        var p = f.Parameters;
        var probes = p.Specs.Select((s, i) => (s, i)).Where(x => x.s.Name.Contains(".0.", StringComparison.Ordinal) || x.s.Name.Contains("embeddings.word", StringComparison.Ordinal) || x.s.Name == "wte.weight").Take(8);
        foreach (var (spec, i) in probes)
        {
            var g = p.Gradient(i).ToArray();
            int j = 0;
            for (int k = 1; k < g.Length; k++) if (Math.Abs(g[k]) > Math.Abs(g[j])) j = k;
            var v = p.Value(i);
            float keep = v[j];
            const float h = 1e-2f;
            v[j] = keep + h; double up = f.Forward();
            v[j] = keep - h; double down = f.Forward();
            v[j] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - g[j]) <= 3e-2 * Math.Abs(fd) + 1e-3, $"{family} {spec.Name}[{j}]: finite difference {fd}, backward {g[j]}");
        }
    }

    [Fact]
    public void CheckpointingRegeneratesTheSameMasks()
    {
        using var a = new FixtureModel("gpt2", WithDropout);
        using var b = new FixtureModel("gpt2", WithDropout);
        ((Gpt2Model)b.Model).ActivationCheckpointing = true;
        ((ITrainingMode)a.Model).IsTraining = true;
        ((ITrainingMode)b.Model).IsTraining = true;
        Assert.Equal(a.ForwardBackward(), b.ForwardBackward());
        var ga = a.Gradients();
        foreach (var (name, g) in b.Gradients()) Assert.Equal(ga[name], g);
    }
}
