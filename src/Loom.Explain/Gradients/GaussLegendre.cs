// Gauss–Legendre quadrature on [0, 1] (Captum's default path integral, approximation_methods.py):
// the n roots of the Legendre polynomial P_n found by Newton's method from Chebyshev-like starts
// (Numerical Recipes §4.6, gauleg), weights 2/((1 − x²)P_n'(x)²), mapped from [−1, 1] to [0, 1].
// Exact for polynomials of degree ≤ 2n − 1.
namespace Loom.Explain.Gradients;

/// <summary>Nodes and weights of Gauss–Legendre quadrature on [0, 1].</summary>
public static class GaussLegendre
{
    /// <summary>n nodes (ascending) and weights (summing to 1).</summary>
    public static (double[] Nodes, double[] Weights) On01(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "at least one node");
        var x = new double[n];
        var w = new double[n];
        int m = (n + 1) / 2;
        for (int i = 0; i < m; i++)
        {
            double z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), pp = 0;
            for (int iter = 0; iter < 100; iter++)
            {
                double p1 = 1, p2 = 0;
                for (int j = 0; j < n; j++)
                {
                    double p3 = p2;
                    p2 = p1;
                    p1 = ((2 * j + 1) * z * p2 - j * p3) / (j + 1);
                }
                pp = n * (z * p1 - p2) / (z * z - 1);
                double z1 = z;
                z = z1 - p1 / pp;
                if (Math.Abs(z - z1) < 1e-15) break;
            }
            x[i] = -z; x[n - 1 - i] = z;
            w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * pp * pp);
        }
        for (int i = 0; i < n; i++) { x[i] = (x[i] + 1) / 2; w[i] /= 2; }
        return (x, w);
    }
}
