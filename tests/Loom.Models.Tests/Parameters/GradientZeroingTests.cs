// Deferred gradient zeroing (ParameterSet.ZeroGradientsOnFirstWrite): the first weight-gradient GEMM of
// a step writes instead of adding, every other access zeroes a tensor first. The reference is the eager
// ZeroGradients path (whose gradients the PyTorch fixture tests check): the gradients must be equal,
// also over stale NaN gradients (any kernel that added into a not-yet-zeroed tensor would show NaN) and
// with two accumulated micro-batches.
using Loom.Models.Parameters;

namespace Loom.Models.Tests.Parameters;

public class GradientZeroingTests
{
    public static TheoryData<string> Families => new(FixtureModel.Families);

    [Theory]
    [MemberData(nameof(Families))]
    public void DeferredZeroingGivesTheGradientsOfEagerZeroingOverStaleNaNs(string family)
    {
        using var m = new FixtureModel(family);
        m.Parameters.ZeroGradients();
        m.Forward(); m.Backward(0.5f);
        m.Forward(); m.Backward(0.5f);
        var want = m.Gradients();

        for (int i = 0; i < m.Parameters.Specs.Count; i++)   // last step's gradients, never to be read
            if (m.Parameters.IsTrainable(i)) m.Parameters.Gradient(i).Fill(float.NaN);
        m.Parameters.ZeroGradientsOnFirstWrite();
        Assert.Equal(want.Count, m.Parameters.PendingZeroGradients);
        m.Forward(); m.Backward(0.5f);
        Assert.True(m.Parameters.PendingZeroGradients < want.Count, "no projection wrote its weight gradient in place of zeroing it");
        m.Forward(); m.Backward(0.5f);
        var got = m.Gradients();
        Assert.Equal(0, m.Parameters.PendingZeroGradients);
        foreach (var (name, g) in want) Assert.Equal(g, got[name]);   // float equality: +0 and −0 (x + 0 vs x) are equal
    }

    [Fact]
    public void APendingTensorIsZeroedByEveryAccessButTheFirstWrite()
    {
        using var p = new ParameterSet([("a", [3, 5], true), ("b", [4], false), ("c", [2, 2], true)]);
        p.Gradient(0).Fill(7f);
        p.Gradient(1).Fill(7f);
        p.Gradient(2).Fill(7f);
        p.ZeroGradientsOnFirstWrite();
        Assert.Equal(3, p.PendingZeroGradients);

        var a = p.GradientToWrite(0, out bool overwrite);
        Assert.True(overwrite);
        Assert.All(a.ToArray(), x => Assert.Equal(7f, x));   // not cleared: the caller writes every element
        a.Fill(1f);
        p.GradientToWrite(0, out overwrite);
        Assert.False(overwrite);                              // written once this step: later writers add

        Assert.All(p.Gradient(1).ToArray(), x => Assert.Equal(0f, x));
        Assert.Equal(1, p.PendingZeroGradients);
        var all = p.AllGradients.ToArray();                   // the whole block: "c" zeroed, "a" as written
        Assert.Equal(0, p.PendingZeroGradients);
        Assert.All(p.Gradient(0).ToArray(), x => Assert.Equal(1f, x));
        Assert.All(p.Gradient(2).ToArray(), x => Assert.Equal(0f, x));
        Assert.Equal(15, all.Count(x => x == 1f));
        Assert.Equal(all.Length - 15, all.Count(x => x == 0f));

        p.ZeroGradientsOnFirstWrite();
        p.ZeroGradients();                                    // eager zeroing cancels the pending marks
        Assert.Equal(0, p.PendingZeroGradients);
        Assert.All(p.AllGradients.ToArray(), x => Assert.Equal(0f, x));
    }
}
