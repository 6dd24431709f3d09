using Loom.Compression.Pruning;

namespace Loom.Compression.Tests.Pruning;

public sealed class SparseGptPrunerTests
{
    [Theory]
    [InlineData("50")]
    [InlineData("2_4")]
    [InlineData("4_8")]
    public void EqualsTheTorchPortOfFasterprune(string setting)
    {
        var w = Fixture.W;
        SparseGptPruner.Prune(w, Fixture.Rows, Fixture.Cols, Fixture.Hessian(), Patterns.Of(setting), blockSize: 32, percDamp: 0.01);
        var expected = Fixture.Doubles("sparsegpt_" + setting);
        for (int i = 0; i < w.Length; i++)
        {
            Assert.Equal(expected[i] == 0, w[i] == 0);
            Assert.True(Math.Abs(expected[i] - w[i]) <= 1e-9 + 1e-9 * Math.Abs(expected[i]), $"weight {i}: {w[i]} vs torch {expected[i]}");
        }
    }

    // The paper's point (Frantar & Alistarh 2023, Fig. 1/Table 1): with correlated inputs, reconstructing
    // the remaining weights keeps the layer output far closer than choosing by magnitude (or by Wanda's
    // score, which does not update). Inputs here have correlated columns of unequal scale.
    [Theory]
    [InlineData("50")]
    [InlineData("2_4")]
    [InlineData("4_8")]
    public void ReconstructionErrorIsWellBelowMagnitudeAndWanda(string setting)
    {
        int rows = Fixture.Rows, cols = Fixture.Cols, tokens = Fixture.Tokens;
        var x = Fixture.X;
        var pattern = Patterns.Of(setting);
        var magnitude = Fixture.W;
        MagnitudePruner.Prune(magnitude, rows, cols, pattern);
        var wanda = Fixture.W;
        WandaPruner.Prune(wanda, rows, cols, Fixture.SquaredNorms(), pattern);
        var sparse = Fixture.W;
        SparseGptPruner.Prune(sparse, rows, cols, Fixture.Hessian(), pattern, blockSize: 32);
        double eMag = Fixture.OutputError(Fixture.W, magnitude, x, rows, cols, tokens);
        double eWanda = Fixture.OutputError(Fixture.W, wanda, x, rows, cols, tokens);
        double eSparse = Fixture.OutputError(Fixture.W, sparse, x, rows, cols, tokens);
        Assert.True(eSparse < 0.5 * eMag, $"SparseGPT ‖WX−ŴX‖ {eSparse:G4} is not below half of magnitude's {eMag:G4}");
        Assert.True(eSparse < eWanda, $"SparseGPT {eSparse:G4} is not below Wanda's {eWanda:G4}");
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    public void SemiStructuredMaskHoldsExactlyForEveryMethod(int n, int m)
    {
        var rng = new Random(7);
        int rows = 24, cols = 96, tokens = 200;
        var x = Enumerable.Range(0, tokens * cols).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var w0 = Enumerable.Range(0, rows * cols).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var pattern = SparsityPattern.NOfM(n, m);
        var norms = new double[cols];
        for (int t = 0; t < tokens; t++) for (int j = 0; j < cols; j++) norms[j] += x[t * cols + j] * x[t * cols + j];
        foreach (var method in new Func<double[], bool[]>[]
        {
            w => MagnitudePruner.Prune(w, rows, cols, pattern),
            w => WandaPruner.Prune(w, rows, cols, norms, pattern),
            w => SparseGptPruner.Prune(w, rows, cols, Fixture.Hessian(x, tokens, cols), pattern, blockSize: 32),
        })
        {
            var w = (double[])w0.Clone();
            var mask = method(w);
            for (int r = 0; r < rows; r++)
                for (int g = 0; g < cols; g += m)
                {
                    Assert.Equal(n, Enumerable.Range(g, m).Count(j => mask[r * cols + j]));
                    Assert.Equal(n, Enumerable.Range(g, m).Count(j => w[r * cols + j] == 0));
                }
        }
    }

    [Fact]
    public void DeadInputsAreZeroedAndDoNotBreakTheFactorisation()
    {
        int rows = 4, cols = 8, tokens = 32;
        var rng = new Random(3);
        var x = new double[tokens * cols];
        for (int t = 0; t < tokens; t++) for (int j = 0; j < cols; j++) x[t * cols + j] = j == 5 ? 0 : rng.NextDouble() - 0.5;
        var w = Enumerable.Range(0, rows * cols).Select(_ => rng.NextDouble() + 0.5).ToArray();
        SparseGptPruner.Prune(w, rows, cols, Fixture.Hessian(x, tokens, cols), SparsityPattern.Unstructured(0.25), blockSize: 8);
        for (int r = 0; r < rows; r++) Assert.Equal(0, w[r * cols + 5]);
        Assert.All(w, v => Assert.True(double.IsFinite(v)));
    }
}
