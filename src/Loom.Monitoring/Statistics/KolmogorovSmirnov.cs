// The two-sample Kolmogorov–Smirnov test, two-sided, as scipy 1.10.1's stats.ks_2samp computes it
// (scipy/stats/_stats_py.py, ks_2samp and _attempt_exact_2kssamp; scipy/stats/_stats_pythran.py,
// _compute_outer_prob_inside_method): D = max |F1 − F2| over the pooled values (right-continuous ECDFs, so ties
// count as scipy's searchsorted(side='right') counts them). `Auto` takes the exact p-value when
// max(n1, n2) ≤ 10,000 and the asymptotic one otherwise; an exact computation that leaves [0, 1] falls back to
// asymptotic, as scipy does. Exact: D is snapped to h/lcm(n1, n2) with h = round(D·lcm) (half to even, as
// numpy.round); n1 = n2 uses the alternating-binomial Horner form (_compute_prob_outside_square), otherwise the
// lattice-path count of paths leaving the band |x/n1 − y/n2| < h/lcm, kept as 1 − p (Hodges 1958;
// Viehmann, arXiv:2102.08037). Asymptotic: kstwo.sf(D, round(n1·n2/(n1 + n2))) (see KolmogorovDistribution).
namespace Loom.Monitoring.Statistics;

/// <summary>The two-sample Kolmogorov–Smirnov test.</summary>
public static class KolmogorovSmirnov
{
    /// <summary>scipy's MAX_AUTO_N: `auto` is exact up to this many values in the larger sample.</summary>
    public const int MaxAutoN = 10000;

    /// <summary>The statistic and two-sided p-value of <paramref name="reference"/> against <paramref name="current"/>.</summary>
    public static TestResult TwoSample(ReadOnlySpan<double> reference, ReadOnlySpan<double> current, KsMethod method = KsMethod.Auto)
    {
        if (reference.Length == 0 || current.Length == 0)
            throw new ArgumentException($"The KS test needs values in both samples; got {reference.Length} reference and {current.Length} current values.");
        var a = reference.ToArray();
        var b = current.ToArray();
        Array.Sort(a);
        Array.Sort(b);
        double d = Statistic(a, b);
        int n1 = a.Length, n2 = b.Length;
        long g = Gcd(n1, n2);
        bool exact = method switch
        {
            KsMethod.Auto => Math.Max(n1, n2) <= MaxAutoN,
            KsMethod.Exact => n1 / g < int.MaxValue / (double)(n2 / g),
            _ => false,
        };
        if (exact && TryExact(n1, n2, g, d, out double dSnapped, out double p))
            return new TestResult(dSnapped, Math.Clamp(p, 0, 1), "exact");
        double m = Math.Max(n1, n2), n = Math.Min(n1, n2);
        double en = m * n / (m + n);
        return new TestResult(d, KolmogorovDistribution.Survival((int)Math.Round(en, MidpointRounding.ToEven), d), "asymp");
    }

    /// <summary>max over the pooled sorted values of |F_ref − F_cur|; both inputs sorted ascending.</summary>
    internal static double Statistic(double[] a, double[] b)
    {
        int i = 0, j = 0;
        double n1 = a.Length, n2 = b.Length, maxS = double.NegativeInfinity, minS = double.PositiveInfinity;
        while (i < a.Length || j < b.Length)
        {
            double v = j >= b.Length || (i < a.Length && a[i] <= b[j]) ? a[i] : b[j];
            while (i < a.Length && a[i] <= v) i++;
            while (j < b.Length && b[j] <= v) j++;
            double diff = i / n1 - j / n2;
            maxS = Math.Max(maxS, diff);
            minS = Math.Min(minS, diff);
        }
        double negative = Math.Clamp(-minS, 0, 1);
        return negative > maxS ? negative : maxS;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    private static bool TryExact(int n1, int n2, long g, double d, out double dSnapped, out double p)
    {
        long lcm = n1 / g * n2;
        long h = (long)Math.Round(d * lcm, MidpointRounding.ToEven);
        dSnapped = h * 1.0 / lcm;
        if (h == 0) { p = 1; return true; }
        p = n1 == n2 ? ProbOutsideSquare(n1, h) : OuterProbInside(n1, n2, g, h);
        return p >= 0 && p <= 1 && !double.IsNaN(p);
    }

    // Pr(D_{n,n} ≥ h/n) = 2·(A0(1 − A1(1 − A2(1 − …)))), each A_k a ratio of h factors.
    private static double ProbOutsideSquare(long n, long h)
    {
        double P = 0;
        long k = (long)Math.Floor(n / (double)h);
        while (k >= 0)
        {
            double p1 = 1;
            for (long j = 0; j < h; j++) p1 = (n - k * h - j) * p1 / (n + k * h + j + 1);
            P = p1 * (1 - P);
            k--;
        }
        return 2 * P;
    }

    // The proportion of lattice paths from (0, 0) to (m, n) that leave |n·x/g − m·y/g| < h, by the inside
    // method's column recursion rewritten to carry 1 − p (Viehmann 2021), over a sliding window of one column.
    private static double OuterProbInside(long m, long n, long g, long h)
    {
        if (m < n) (m, n) = (n, m);
        long mg = m / g, ng = n / g;
        long minj = 0, maxj = Math.Min((long)Math.Ceiling(h / (double)mg), n + 1);
        long curlen = maxj - minj;
        long lenA = Math.Min(2 * maxj + 2, n + 1);
        var A = new double[lenA];
        Array.Fill(A, 1.0);
        for (long j = minj; j < maxj && j < lenA; j++) A[j] = 0;
        for (long i = 1; i <= m; i++)
        {
            long lastminj = minj, lastlen = curlen;
            minj = Math.Max((long)Math.Floor((ng * i - h) / (double)mg) + 1, 0);
            minj = Math.Min(minj, n);
            maxj = Math.Min((long)Math.Ceiling((ng * i + h) / (double)mg), n + 1);
            if (maxj <= minj) return 1.0;
            double val = minj == 0 ? 0.0 : 1.0;
            for (long jj = 0; jj < maxj - minj; jj++)
            {
                long j = jj + minj;
                val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
                A[jj] = val;
            }
            curlen = maxj - minj;
            if (lastlen > curlen)
                for (long c = maxj - minj; c < maxj - minj + (lastlen - curlen) && c < lenA; c++) A[c] = 1;
        }
        return A[maxj - minj - 1];
    }
}
