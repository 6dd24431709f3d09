// Truncated SVD of a weight: W (out × in) = U·Σ·Vᵀ, kept to rank r, gives the best rank-r approximation
// in the Frobenius and spectral norms (Eckart–Young–Mirsky). Computed in double with Math.NET Numerics'
// managed SVD (Householder bidiagonalisation + implicit-shift QR, LINPACK's dsvdc), so no native library
// is needed. The factors are split as B = U_r·Σ_r (out × r) and A = V_rᵀ (r × in): y = x·Aᵀ·Bᵀ.
using MathNet.Numerics.LinearAlgebra;

namespace Loom.Compression.LowRank;

/// <summary>Singular values and truncated factors of a matrix.</summary>
public sealed class TruncatedSvd
{
    private readonly Matrix<double> _u, _vt;

    private TruncatedSvd(double[] singularValues, Matrix<double> u, Matrix<double> vt, int rows, int cols)
    {
        SingularValues = singularValues;
        _u = u;
        _vt = vt;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>Rows of the factored matrix (out).</summary>
    public int Rows { get; }

    /// <summary>Columns (in).</summary>
    public int Cols { get; }

    /// <summary>σ₁ ≥ σ₂ ≥ … ≥ 0, min(rows, cols) of them.</summary>
    public IReadOnlyList<double> SingularValues { get; }

    /// <summary>The SVD of the (rows × cols) row-major <paramref name="w"/>.</summary>
    public static TruncatedSvd Compute(ReadOnlySpan<double> w, int rows, int cols)
    {
        if (w.Length != (long)rows * cols) throw new ArgumentException($"{w.Length} values do not make a {rows}×{cols} matrix.");
        var m = Matrix<double>.Build.Dense(rows, cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m[r, c] = w[r * cols + c];
        var svd = m.Svd(computeVectors: true);
        return new TruncatedSvd(svd.S.ToArray(), svd.U, svd.VT, rows, cols);
    }

    /// <summary>The smallest rank whose Σσᵢ² is at least <paramref name="energy"/> of the total (0 &lt; energy ≤ 1).</summary>
    public int RankForEnergy(double energy)
    {
        if (!(energy > 0 && energy <= 1)) throw new ArgumentOutOfRangeException(nameof(energy), energy, $"--energy must be in (0, 1] (the fraction of Σσ² to keep); got {energy}.");
        double total = SingularValues.Sum(s => s * s), kept = 0;
        if (total == 0) return 1;
        for (int r = 0; r < SingularValues.Count; r++)
        {
            kept += SingularValues[r] * SingularValues[r];
            if (kept >= energy * total * (1 - 1e-12)) return r + 1;
        }
        return SingularValues.Count;
    }

    /// <summary>A = V_rᵀ (rank × cols) and B = U_r·Σ_r (rows × rank), row-major floats.</summary>
    public (float[] A, float[] B) Factors(int rank)
    {
        if (rank < 1 || rank > SingularValues.Count) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be in 1..{SingularValues.Count} for a {Rows}×{Cols} matrix; got {rank}.");
        var a = new float[(long)rank * Cols];
        var b = new float[(long)Rows * rank];
        for (int k = 0; k < rank; k++)
            for (int c = 0; c < Cols; c++) a[k * Cols + c] = (float)_vt[k, c];
        for (int r = 0; r < Rows; r++)
            for (int k = 0; k < rank; k++) b[r * rank + k] = (float)(_u[r, k] * SingularValues[k]);
        return (a, b);
    }

    /// <summary>‖W − W_r‖_F / ‖W‖_F from the discarded singular values.</summary>
    public double RelativeError(int rank)
    {
        double total = SingularValues.Sum(s => s * s), rest = SingularValues.Skip(rank).Sum(s => s * s);
        return total == 0 ? 0 : Math.Sqrt(rest / total);
    }
}
