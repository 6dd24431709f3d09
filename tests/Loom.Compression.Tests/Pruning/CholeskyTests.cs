using Loom.Compression.Pruning;

namespace Loom.Compression.Tests.Pruning;

public sealed class CholeskyTests
{
    [Fact]
    public void UpperFactorOfTheInverseReproducesTheInverse()
    {
        int n = 13;
        var rng = new Random(5);
        var m = Enumerable.Range(0, n * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = i == j ? 0.5 : 0;
                for (int k = 0; k < n; k++) s += m[i * n + k] * m[j * n + k];
                a[i * n + j] = s;
            }
        var inv = Cholesky.InverseFromLower(Cholesky.Lower(a, n), n);
        // A·A⁻¹ = I
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
                Assert.Equal(i == j ? 1 : 0, s, 1e-10);
            }
        var u = Cholesky.Upper(inv, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (j < i) Assert.Equal(0, u[i * n + j]);
                double s = 0;
                for (int k = 0; k < n; k++) s += u[k * n + i] * u[k * n + j];
                Assert.Equal(inv[i * n + j], s, 1e-10);
            }
    }

    [Fact]
    public void NotPositiveDefiniteNamesTheDampening()
    {
        var e = Assert.Throws<ArithmeticException>(() => Cholesky.Lower([1, 2, 2, 1], 2));
        Assert.Contains("dampening", e.Message);
    }
}
