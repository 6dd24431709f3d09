// Shared helpers: seeded random data and tolerant comparison that reports the worst element.
namespace Loom.Core.Tests;

internal static class TestUtil
{
    public static float[] Random(int seed, int n, float scale = 1f, float offset = 0f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale + offset;
        return a;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++) d[i] = x[i];
        return d;
    }

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere; names the worst index.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double allowed = atol + rtol * Math.Abs(expected[i]);
            if (!(err <= allowed) && (worst < 0 || err - allowed > worstExcess))
            {
                worst = i;
                worstExcess = double.IsNaN(err) ? double.PositiveInfinity : err - allowed;
            }
        }
        if (worst >= 0)
            Assert.Fail($"{what} element {worst} of {expected.Length}: expected {expected[worst]:R}, got {actual[worst]:R} (rtol {rtol}, atol {atol}).");
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what = "") =>
        Close(ToDouble(expected), actual, rtol, atol, what);

    /// <summary>
    /// Central finite differences in double of L(x) = Σ f(x) ⊙ r with respect to x: the reference
    /// for a backward pass given upstream gradient r.
    /// </summary>
    public static double[] FiniteDifference(Func<double[], double[]> f, double[] x, double[] r, double h = 1e-6)
    {
        var g = new double[x.Length];
        var xp = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            double keep = xp[i];
            xp[i] = keep + h;
            double lp = Dot(f(xp), r);
            xp[i] = keep - h;
            double lm = Dot(f(xp), r);
            xp[i] = keep;
            g[i] = (lp - lm) / (2 * h);
        }
        return g;
    }

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Lengths that hit every SIMD tail (1..67) and a few larger odd ones.</summary>
    public static IEnumerable<object[]> TailLengths()
    {
        for (int n = 1; n <= 67; n++) yield return [n];
        foreach (int n in new[] { 127, 255, 1023, 4097, 40_001 }) yield return [n];
    }
}
