// Parameter roles on whole models: a frozen tensor has no gradient; gradients of the trainable ones
// are those of the fully trainable model (the backward through frozen layers is still exact); a
// model built for inference has no gradient block at all and refuses Backward with a clear message.
using Loom.Models.Gpt2;
using Loom.Models.Parameters;

namespace Loom.Models.Tests.Parameters;

public class ParameterRolesTests
{
    public static TheoryData<string> Families => new(FixtureModel.Families);

    [Theory]
    [MemberData(nameof(Families))]
    public void TrainableGradientsMatchTheFullyTrainableModelWhenOthersAreFrozen(string family)
    {
        // Freeze everything but the second layer and the final norm: gradients must still flow
        // through the frozen head and the frozen norms (their weight gradients thrown away).
        static bool Train(string n) => n.Contains(".1.", StringComparison.Ordinal) || n is "ln_f.bias" or "model.norm.weight";
        using var partial = new FixtureModel(family, new ModelOptions { Trainable = Train });
        using var full = new FixtureModel(family);
        Assert.Equal(full.ForwardBackward(), partial.ForwardBackward());
        var want = full.Gradients();
        var got = partial.Gradients();
        Assert.Equal(want.Keys.Where(Train).Order(), got.Keys.Order());
        foreach (var (name, g) in got) Assert.Equal(want[name], g);
        var specs = partial.Parameters.Specs;
        Assert.Equal(specs.Where(s => Train(s.Name)).Sum(s => s.Count), partial.Parameters.TrainableCount);
        Assert.Equal(specs.Where(s => Train(s.Name)).Sum(s => (s.Count + 15) & ~15L), partial.Parameters.GradientFloats);
        Assert.All(specs.Where(s => !Train(s.Name)), s => Assert.Equal(ParameterRole.Frozen, s.Role));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void AnInferenceModelHasNoGradientBlockAndRefusesBackward(string family)
    {
        using var m = new FixtureModel(family, ModelOptions.Inference);
        Assert.False(m.Parameters.HasGradients);
        Assert.Null(m.Parameters.Gradients);
        Assert.Equal(0, m.Parameters.GradientFloats);
        Assert.True(m.Parameters.AllGradients.IsEmpty);
        using var full = new FixtureModel(family);
        Assert.Equal(full.Forward(), m.Forward());
        var e = Assert.Throws<InvalidOperationException>(() => m.Backward());
        Assert.Contains("inference", e.Message);
    }

    [Fact]
    public void SetTrainableReplansTheGradientBlock()
    {
        using var p = new ParameterSet([("a", [3, 5], true), ("b", [4], false), ("c", [2, 2], true)]);
        Assert.Equal(16 + 16 + 16, p.GradientFloats);
        p.SetTrainable(n => n == "c");
        Assert.Equal(16, p.GradientFloats);
        Assert.Equal(4, p.TrainableCount);
        Assert.Equal(4, p.Gradient(2).Length);
        Assert.Throws<InvalidOperationException>(() => p.Gradient(0));
        p.SetTrainable(_ => false);
        Assert.False(p.HasGradients);
        Assert.Throws<InvalidOperationException>(() => p.EnsureGradients());
    }

    [Fact]
    public void AnInferenceBuildAllocatesOnlyTheValues()
    {
        var config = new Gpt2Config { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };
        using var train = new Gpt2Model(config);
        using var infer = new Gpt2Model(config, ModelOptions.Inference);
        Assert.Equal(train.Parameters.Floats * sizeof(float), train.Parameters.Gradients!.ByteLength);
        Assert.Null(infer.Parameters.Gradients);
        Assert.Equal(train.Parameters.Values.ByteLength, infer.Parameters.Values.ByteLength);
    }
}
