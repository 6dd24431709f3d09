// Weighted ridge regression with an intercept, as scikit-learn's Ridge(alpha, fit_intercept=True)
// fits with sample_weight: minimise Σ wᵢ(yᵢ − b − xᵢ·β)² + α‖β‖² (the intercept unpenalised). The
// data are centred on their weighted means, then (XcᵀWXc + αI)β = XcᵀWyc is solved in double by
// Gaussian elimination with partial pivoting (α = 0 — lime's forward selection — can be near
// singular, where Cholesky would fail), and b = ȳ − x̄·β. Score is the weighted R² of r2_score.
namespace Loom.Explain.Lime;

/// <summary>A fitted weighted ridge model.</summary>
public sealed class WeightedRidge
{
    /// <summary>Coefficients, one per column of the design.</summary>
    public double[] Coefficients { get; }

    /// <summary>The intercept b.</summary>
    public double Intercept { get; }

    private WeightedRidge(double[] coef, double intercept) { Coefficients = coef; Intercept = intercept; }

    /// <summary>Prediction b + x·β for one row.</summary>
    public double Predict(ReadOnlySpan<double> x)
    {
        double s = Intercept;
        for (int j = 0; j < Coefficients.Length; j++) s += Coefficients[j] * x[j];
        return s;
    }

    /// <summary>
    /// Fits on the columns <paramref name="columns"/> of <paramref name="data"/> (n rows × d, row-major).
    /// </summary>
    public static WeightedRidge Fit(double[] data, int d, ReadOnlySpan<int> columns, ReadOnlySpan<double> y, ReadOnlySpan<double> w, double alpha)
    {
        int n = y.Length, k = columns.Length;
        if (data.Length != (long)n * d) throw new ArgumentException($"data has {data.Length} values; {n} rows × {d} columns = {(long)n * d}.");
        if (w.Length != n) throw new ArgumentException($"{w.Length} weights for {n} rows.");
        double sw = 0, ym = 0;
        var xm = new double[k];
        for (int i = 0; i < n; i++)
        {
            sw += w[i];
            ym += w[i] * y[i];
            for (int j = 0; j < k; j++) xm[j] += w[i] * data[i * d + columns[j]];
        }
        if (!(sw > 0)) throw new ArgumentException("The sample weights sum to zero; nothing can be fitted.");
        ym /= sw;
        for (int j = 0; j < k; j++) xm[j] /= sw;
        // A = XcᵀWXc + αI (k × k), r = XcᵀWyc
        var a = new double[k * k];
        var r = new double[k];
        var xc = new double[k];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++) xc[j] = data[i * d + columns[j]] - xm[j];
            double wy = w[i] * (y[i] - ym);
            for (int j = 0; j < k; j++)
            {
                double wx = w[i] * xc[j];
                r[j] += xc[j] * wy;
                for (int m = j; m < k; m++) a[j * k + m] += wx * xc[m];
            }
        }
        for (int j = 0; j < k; j++)
        {
            a[j * k + j] += alpha;
            for (int m = 0; m < j; m++) a[j * k + m] = a[m * k + j];
        }
        var beta = Solve(a, r, k);
        double b = ym;
        for (int j = 0; j < k; j++) b -= xm[j] * beta[j];
        return new WeightedRidge(beta, b);
    }

    /// <summary>Weighted R² (sklearn r2_score with sample_weight) of this model on the same columns.</summary>
    public double Score(double[] data, int d, ReadOnlySpan<int> columns, ReadOnlySpan<double> y, ReadOnlySpan<double> w)
    {
        int n = y.Length;
        double sw = 0, ym = 0;
        for (int i = 0; i < n; i++) { sw += w[i]; ym += w[i] * y[i]; }
        ym /= sw;
        double ssRes = 0, ssTot = 0;
        for (int i = 0; i < n; i++)
        {
            double p = Intercept;
            for (int j = 0; j < columns.Length; j++) p += Coefficients[j] * data[i * d + columns[j]];
            ssRes += w[i] * (y[i] - p) * (y[i] - p);
            ssTot += w[i] * (y[i] - ym) * (y[i] - ym);
        }
        // sklearn: a constant target scores 1 when predicted exactly, else 0.
        if (ssTot == 0) return ssRes == 0 ? 1 : 0;
        return 1 - ssRes / ssTot;
    }

    // Gaussian elimination with partial pivoting; a zero pivot (a column identical to another, or
    // constant) gets coefficient 0, as a minimum-norm least-squares solver would leave it.
    private static double[] Solve(double[] a, double[] r, int k)
    {
        var x = new double[k];
        var piv = Enumerable.Range(0, k).ToArray();
        double scale = 0;
        for (int i = 0; i < k; i++) scale = Math.Max(scale, Math.Abs(a[i * k + i]));
        double tiny = Math.Max(scale, 1) * 1e-12;
        var singular = new bool[k];
        for (int c = 0; c < k; c++)
        {
            int best = c;
            for (int i = c + 1; i < k; i++) if (Math.Abs(a[i * k + c]) > Math.Abs(a[best * k + c])) best = i;
            if (best != c)
            {
                for (int m = 0; m < k; m++) (a[c * k + m], a[best * k + m]) = (a[best * k + m], a[c * k + m]);
                (r[c], r[best]) = (r[best], r[c]);
            }
            if (Math.Abs(a[c * k + c]) <= tiny) { singular[c] = true; continue; }
            for (int i = c + 1; i < k; i++)
            {
                double f = a[i * k + c] / a[c * k + c];
                if (f == 0) continue;
                for (int m = c; m < k; m++) a[i * k + m] -= f * a[c * k + m];
                r[i] -= f * r[c];
            }
        }
        for (int c = k - 1; c >= 0; c--)
        {
            if (singular[c]) { x[c] = 0; continue; }
            double s = r[c];
            for (int m = c + 1; m < k; m++) s -= a[c * k + m] * x[m];
            x[c] = s / a[c * k + c];
        }
        return x;
    }
}
