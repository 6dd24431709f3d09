using Loom.Compression.Pruning;

namespace Loom.Compression.Tests.Pruning;

public sealed class MagnitudePrunerTests
{
    [Theory]
    [InlineData("50")]
    [InlineData("2_4")]
    [InlineData("4_8")]
    public void MaskEqualsTheTorchReference(string setting)
    {
        var w = Fixture.W;
        var original = (double[])w.Clone();
        var mask = MagnitudePruner.Prune(w, Fixture.Rows, Fixture.Cols, Patterns.Of(setting));
        Assert.Equal(Fixture.Mask("magnitude_" + setting), mask);
        for (int i = 0; i < w.Length; i++) Assert.Equal(mask[i] ? 0 : original[i], w[i]);
    }

    [Fact]
    public void UnstructuredTakesExactlyTheFloorOfTheFraction()
    {
        var w = Enumerable.Range(1, 30).Select(i => (double)(i % 7 == 0 ? -i : i)).ToArray();
        var mask = MagnitudePruner.Prune(w, 3, 10, SparsityPattern.Unstructured(0.35));
        Assert.Equal(10, mask.Count(m => m));                // ⌊0.35·30⌋
        Assert.True(mask.Take(10).All(m => m));              // |1..10| are the smallest
    }
}

internal static class Patterns
{
    public static SparsityPattern Of(string setting) => setting switch
    {
        "50" => SparsityPattern.Unstructured(0.5),
        "2_4" => SparsityPattern.NOfM(2, 4),
        "4_8" => SparsityPattern.NOfM(4, 8),
        _ => throw new ArgumentException(setting),
    };
}
