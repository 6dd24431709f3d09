// Dense symmetric positive-definite helpers in double for SparseGPT: the Cholesky factor, the inverse
// from it, and the upper factor of that inverse (torch.linalg.cholesky / cholesky_inverse /
// cholesky(upper=True) in the reference). Every inner loop is a dot product of two contiguous rows.
using System.Numerics.Tensors;

namespace Loom.Compression.Pruning;

/// <summary>Cholesky factorisation and inversion of an n×n row-major SPD matrix.</summary>
public static class Cholesky
{
    /// <summary>Lower L with A = L·Lᵀ (row-major n×n, upper triangle zero); throws when A is not positive definite.</summary>
    public static double[] Lower(ReadOnlySpan<double> a, int n)
    {
        var l = new double[(long)n * n];
        for (int i = 0; i < n; i++)
        {
            var li = l.AsSpan(i * n, n);
            for (int j = 0; j <= i; j++)
            {
                var lj = l.AsSpan(j * n, j);
                double s = a[i * n + j] - TensorPrimitives.Dot<double>(li[..j], lj);
                if (i == j)
                {
                    if (!(s > 0))
                        throw new ArithmeticException($"The calibration Hessian is not positive definite at column {i} (pivot {s:G4}); raise the dampening (SparseGPT's percdamp, default 0.01) or give more calibration samples.");
                    li[i] = Math.Sqrt(s);
                }
                else li[j] = s / l[j * n + j];
            }
        }
        return l;
    }

    /// <summary>A⁻¹ from A's lower Cholesky factor (torch.cholesky_inverse).</summary>
    public static double[] InverseFromLower(ReadOnlySpan<double> l, int n)
    {
        // T = (L⁻¹)ᵀ, upper: T[j, i] = L⁻¹[i, j]. Row j of T holds column j of L⁻¹, so both sums below are row dots.
        var t = new double[(long)n * n];
        for (int i = 0; i < n; i++)
        {
            double lii = l[i * n + i];
            t[i * n + i] = 1 / lii;
            var li = l.Slice(i * n, n);
            for (int j = 0; j < i; j++)
                t[j * n + i] = -TensorPrimitives.Dot<double>(li[j..i], t.AsSpan(j * n + j, i - j)) / lii;
        }
        // A⁻¹[a, b] = Σ_k L⁻¹[k, a]·L⁻¹[k, b] = Σ_{k ≥ max(a,b)} T[a, k]·T[b, k].
        var inv = new double[(long)n * n];
        for (int a = 0; a < n; a++)
            for (int b = 0; b <= a; b++)
                inv[a * n + b] = inv[b * n + a] = TensorPrimitives.Dot<double>(t.AsSpan(a * n + a, n - a), t.AsSpan(b * n + a, n - a));
        return inv;
    }

    /// <summary>Upper U with A = Uᵀ·U (torch.linalg.cholesky(A, upper=True)).</summary>
    public static double[] Upper(ReadOnlySpan<double> a, int n)
    {
        var l = Lower(a, n);
        var u = new double[(long)n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) u[j * n + i] = l[i * n + j];
        return u;
    }
}
