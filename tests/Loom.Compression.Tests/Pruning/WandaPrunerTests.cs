using Loom.Compression.Pruning;

namespace Loom.Compression.Tests.Pruning;

public sealed class WandaPrunerTests
{
    [Theory]
    [InlineData("50")]
    [InlineData("2_4")]
    [InlineData("4_8")]
    public void MaskEqualsTheTorchReference(string setting)
    {
        var w = Fixture.W;
        var mask = WandaPruner.Prune(w, Fixture.Rows, Fixture.Cols, Fixture.SquaredNorms(), Patterns.Of(setting));
        Assert.Equal(Fixture.Mask("wanda_" + setting), mask);
    }

    [Fact]
    public void EveryRowLosesTheSameShare()
    {
        var w = Fixture.W;
        var mask = WandaPruner.Prune(w, Fixture.Rows, Fixture.Cols, Fixture.SquaredNorms(), SparsityPattern.Unstructured(0.5));
        for (int r = 0; r < Fixture.Rows; r++) Assert.Equal(Fixture.Cols / 2, mask.Skip(r * Fixture.Cols).Take(Fixture.Cols).Count(m => m));
    }

    [Fact]
    public void WrongNormCountIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => WandaPruner.Prune(new double[8], 2, 4, new double[3], SparsityPattern.Unstructured(0.5)));
        Assert.Contains("4 columns, 3 norms", e.Message);
    }
}
