// The survival function of the two-sided one-sample Kolmogorov–Smirnov statistic D_n, P(D_n > d): a port of
// scipy 1.10's stats.kstwo.sf, i.e. scipy/stats/_ksstats.py `_kolmogn(n, x, cdf=False)` (Simard & L'Ecuyer,
// "Computing the Two-Sided Kolmogorov-Smirnov Distribution", J. Stat. Software 39(11), 2011), branch for branch:
// Ruben–Gambino closed forms at the ends, 2·smirnov(n, d) in the far tail, the Durbin matrix (Marsaglia, Tsang &
// Wang 2003), Pomeranz (1974) for small n and the Pelz–Good (1976) asymptotic series for large n. ks_2samp's
// asymptotic mode evaluates it at n = round(n1·n2/(n1 + n2)).
namespace Loom.Monitoring.Statistics;

/// <summary>The exact two-sided Kolmogorov distribution's survival function.</summary>
public static class KolmogorovDistribution
{
    private const int E128 = 128;
    private static readonly double Ep128 = Math.ScaleB(1, E128);
    private static readonly double Em128 = Math.ScaleB(1, -E128);

    /// <summary>P(D_n &gt; d) (scipy.stats.kstwo.sf(d, n)).</summary>
    public static double Survival(int n, double d)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "The sample size must be positive.");
        if (double.IsNaN(d)) return double.NaN;
        if (d < 0.5 / n) return 1;          // below kstwo's support [1/(2n), 1]
        if (d >= 1) return 0;
        double t = n * d;
        if (t <= 1)
        {
            if (t <= 0.5) return 1;
            double prob;
            if (n <= 140)
            {
                prob = 1;
                for (int i = 1; i <= n; i++) prob *= i * (1.0 / n) * (2 * t - 1);
            }
            else prob = Math.Exp(LogNFactorialOverNPowN(n) + n * Math.Log(2 * t - 1));
            return Clip(1 - prob);
        }
        if (t >= n - 1) return Clip(2 * Math.Pow(1 - d, n));
        if (d >= 0.5) return Clip(2 * Smirnov(n, d));
        double nxSquared = t * d;
        if (n <= 140)
        {
            if (nxSquared <= 0.754693) return Clip(1 - Clip(DurbinMatrix(n, d)));
            if (nxSquared <= 4) return Clip(1 - Clip(Pomeranz(n, d)));
            return Clip(2 * Smirnov(n, d));
        }
        if (nxSquared >= 370) return 0;
        if (nxSquared >= 2.2) return Clip(2 * Smirnov(n, d));
        double cdf;
        if (nxSquared >= 18) cdf = 1;
        else if (n <= 100000 && n * Math.Pow(d, 1.5) <= 1.4) cdf = Clip(DurbinMatrix(n, d));
        else cdf = PelzGood(n, d);
        return Clip(1 - cdf);
    }

    /// <summary>
    /// The one-sided Smirnov survival function P(D⁺_n ≥ e) by the Birnbaum–Tingey sum
    /// e·Σ_{v=0}^{⌊n(1−e)⌋} C(n, v) (e + v/n)^{v−1} (1 − e − v/n)^{n−v}, every term in log space.
    /// </summary>
    public static double Smirnov(int n, double e)
    {
        if (e <= 0) return 1;
        if (e >= 1) return 0;
        int last = (int)Math.Floor(n * (1 - e));
        double logNFact = SpecialFunctions.LogFactorial(n), sum = 0;
        for (int v = 0; v <= last; v++)
        {
            double evn = e + (double)v / n, omevn = 1 - evn;
            if (omevn <= 0 && n - v > 0) continue;
            double logTerm = logNFact - SpecialFunctions.LogFactorial(v) - SpecialFunctions.LogFactorial(n - v)
                + (v - 1) * Math.Log(evn) + (n - v == 0 ? 0 : (n - v) * Math.Log(omevn));
            if (logTerm > -708) sum += Math.Exp(logTerm);
        }
        return sum * e;
    }

    private static double Clip(double p) => p < 0 ? 0 : p > 1 ? 1 : p;

    // _log_nfactorial_div_n_pow_n: ln(n!/n^n) by Stirling with scipy's coefficients.
    private static double LogNFactorialOverNPowN(int n)
    {
        double[] c = [-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
            -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2];
        double rn = 1.0 / n, x = rn / n, poly = 0;
        foreach (double ci in c) poly = poly * x + ci;
        return Math.Log(n) / 2 - n + Math.Log(2 * Math.PI) / 2 + rn * poly;
    }

    // P(D_n ≤ d) by the Durbin matrix: the (k, k) entry of Hⁿ times n!/nⁿ, with exponent tracking.
    private static double DurbinMatrix(int n, double d)
    {
        if (d >= 1) return 1;
        double nd = n * d;
        if (nd <= 0.5) return 0;
        int k = (int)Math.Ceiling(nd);
        double h = k - nd;
        int m = 2 * k - 1;
        var H = new double[m, m];
        var v = new double[m];
        var w = new double[m];
        double fac = 1;
        for (int j = 1; j <= m; j++)
        {
            w[j - 1] = fac;
            fac /= j;
            v[j - 1] = (1 - Math.Pow(h, j)) * fac;
        }
        double tt = Math.Pow(Math.Max(2 * h - 1, 0), m) - 2 * Math.Pow(h, m);
        v[m - 1] = (1 + tt) * fac;
        for (int i = 1; i < m; i++)
            for (int r = i - 1; r < m; r++) H[r, i] = w[r - (i - 1)];
        for (int r = 0; r < m; r++) H[r, 0] = v[r];
        for (int c = 0; c < m; c++) H[m - 1, c] = v[m - 1 - c];
        var power = new double[m, m];
        for (int i = 0; i < m; i++) power[i, i] = 1;
        int nn = n, exponent = 0, hExponent = 0;
        while (nn > 0)
        {
            if ((nn & 1) != 0) { power = MatMul(power, H); exponent += hExponent; }
            H = MatMul(H, H);
            hExponent *= 2;
            if (Math.Abs(H[k - 1, k - 1]) > Ep128)
            {
                for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) H[i, j] /= Ep128;
                hExponent += E128;
            }
            nn /= 2;
        }
        double p = power[k - 1, k - 1];
        for (int i = 1; i <= n; i++)
        {
            p = i * p / n;
            if (Math.Abs(p) < Em128) { p *= Ep128; exponent -= E128; }
        }
        return exponent != 0 ? Math.ScaleB(p, exponent) : p;
    }

    private static double[,] MatMul(double[,] a, double[,] b)
    {
        int m = a.GetLength(0);
        var c = new double[m, m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int l = 0; l < m; l++) s += a[i, l] * b[l, j];
                c[i, j] = s;
            }
        return c;
    }

    private static (int J1, int J2) PomeranzBounds(int i, int n, int ll, int ceilf, int roundf)
    {
        int j1, j2;
        if (i == 0) { j1 = -ll - ceilf - 1; j2 = ll + ceilf - 1; }
        else
        {
            int half = (i + 1) / 2, odd = (i + 1) % 2;
            if (odd == 0)
            {
                if (half == n + 1) { j1 = n - ll - ceilf - 1; j2 = n + ll + ceilf - 1; }
                else { j1 = half - 1 - ll - roundf - 1; j2 = half + ll - 1 + ceilf - 1; }
            }
            else { j1 = half - 1 - ll - 1; j2 = half + ll + roundf - 1; }
        }
        return (Math.Max(j1 + 2, 0), Math.Min(j2, n));
    }

    // P(D_n ≤ d) by Pomeranz's recursion over alternating steps of width g/n, 2g/n, (1 − 2g)/n.
    private static double Pomeranz(int n, double x)
    {
        double t = n * x;
        int ll = (int)Math.Floor(t);
        double f = t - ll, g = Math.Min(f, 1 - f);
        int ceilf = f > 0 ? 1 : 0, roundf = f > 0.5 ? 1 : 0;
        int powers = 2 * (ll + 1);
        var gPower = new double[powers];
        var twoGPower = new double[powers];
        var oneMinusTwoGPower = new double[powers];
        gPower[0] = twoGPower[0] = oneMinusTwoGPower[0] = 1;
        double gn = g / n, twoGn = 2 * g / n, omtgn = (1 - 2 * g) / n;
        for (int m = 1; m < powers; m++)
        {
            gPower[m] = gPower[m - 1] * gn / m;
            twoGPower[m] = twoGPower[m - 1] * twoGn / m;
            oneMinusTwoGPower[m] = oneMinusTwoGPower[m - 1] * omtgn / m;
        }
        var v0 = new double[powers];
        var v1 = new double[powers];
        v1[0] = 1;
        int v0s = 0, v1s = 0, exponent = 0;
        var (j1, j2) = PomeranzBounds(0, n, ll, ceilf, roundf);
        var conv = new double[2 * powers];
        for (int i = 1; i < 2 * n + 2; i++)
        {
            int k1 = j1;
            (v0, v1) = (v1, v0);
            (v0s, v1s) = (v1s, v0s);
            Array.Clear(v1);
            (j1, j2) = PomeranzBounds(i, n, ll, ceilf, roundf);
            double[] pw = i == 1 || i == 2 * n + 1 ? gPower : (i % 2 != 0 ? twoGPower : oneMinusTwoGPower);
            int ln2 = j2 - k1 + 1;
            if (ln2 > 0)
            {
                // np.convolve(V0[k1 − V0s : k1 − V0s + ln2], pwrs[:ln2]) (full mode; slices clipped to the arrays)
                int aStart = k1 - v0s, aLen = Math.Min(ln2, powers - aStart), bLen = Math.Min(ln2, powers);
                int convLen = aLen + bLen - 1;
                Array.Clear(conv, 0, Math.Max(convLen, 0));
                for (int a = 0; a < aLen; a++)
                {
                    double va = v0[aStart + a];
                    if (va == 0) continue;
                    for (int b = 0; b < bLen; b++) conv[a + b] += va * pw[b];
                }
                int convStart = j1 - k1, count = j2 - j1 + 1;
                double max = 0;
                for (int c = 0; c < count; c++)
                {
                    v1[c] = convStart + c < convLen ? conv[convStart + c] : 0;
                    max = Math.Max(max, v1[c]);
                }
                if (max > 0 && max < Em128)
                {
                    for (int c = 0; c < powers; c++) v1[c] *= Ep128;
                    exponent -= E128;
                }
                v1s = v0s + j1 - k1;
            }
        }
        double ans = v1[n - v1s];
        for (int m = 1; m <= n; m++)
        {
            if (Math.Abs(ans) > Ep128) { ans *= Em128; exponent += E128; }
            ans *= m;
        }
        return exponent != 0 ? Math.ScaleB(ans, exponent) : ans;
    }

    // P(D_n ≤ x) ≈ K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^1.5, z = x√n, in Pelz & Good's theta-function form.
    private static double PelzGood(int n, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double z = Math.Sqrt(n) * x, z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
        double pi2 = Math.PI * Math.PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
        double qlog = -pi2 / 8 / z2;
        if (qlog < -708) return 0;
        double q = Math.Exp(qlog);
        double k1a = -z2, k1b = pi2 / 4;
        double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
        double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
        double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * Math.Pow(z, 8);
        Span<double> K = stackalloc double[4];
        int maxk = (int)Math.Ceiling(16 * z / Math.PI);
        for (int k = maxk; k > 0; k--)
        {
            double m = 2 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
            double qp = Math.Pow(q, 8 * k);
            K[0] = K[0] * qp + 1;
            K[1] = K[1] * qp + (k1a + k1b * m2);
            K[2] = K[2] * qp + (k2a + k2b * m2 + k2c * m4);
            K[3] = K[3] * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
        }
        double sqrt2pi = Math.Sqrt(2 * Math.PI);
        for (int i = 0; i < 4; i++) K[i] *= q * sqrt2pi;
        K[0] /= z; K[1] /= 6 * z4; K[2] /= 72 * Math.Pow(z, 7); K[3] /= 6480 * Math.Pow(z, 10);
        double q2 = Math.Exp(-pi2 / 2 / z2), sqrt3z = Math.Sqrt(3) * z, k2extra = 0, k3extra = 0;
        for (int k = maxk; k > 0; k--)
        {
            double ks2 = (double)k * k, qk = Math.Pow(q2, ks2), kpi = Math.PI * k;
            k2extra += ks2 * qk;
            k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * ks2 * qk;
        }
        K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
        K[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
        double sum = 0;
        for (int i = 0; i < 4; i++) sum += K[i] / Math.Pow(n, i / 2.0);
        return sum;
    }
}
