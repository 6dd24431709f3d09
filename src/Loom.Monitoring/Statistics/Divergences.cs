// Divergences of binned proportions, exactly as issue 17 defines them:
//   PSI = Σ (c − r)·ln(c / r) and KL(ref‖cur) = Σ r·ln(r / c), a zero proportion replaced by 1e-4 first;
//   JS  = ½ KL(P‖M) + ½ KL(Q‖M), M = (P + Q)/2, natural log, no epsilon — the square of
//         scipy.spatial.distance.jensenshannon(P, Q), which first normalises P and Q to sum to 1.
namespace Loom.Monitoring.Statistics;

/// <summary>PSI, KL and Jensen–Shannon divergence on binned proportions.</summary>
public static class Divergences
{
    /// <summary>What a zero proportion becomes in PSI and KL.</summary>
    public const double Epsilon = 1e-4;

    /// <summary>The Population Stability Index.</summary>
    public static double Psi(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        Check(reference, current);
        double sum = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double r = Floor(reference[i]), c = Floor(current[i]);
            sum += (c - r) * Math.Log(c / r);
        }
        return sum;
    }

    /// <summary>KL(reference ‖ current).</summary>
    public static double KullbackLeibler(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        Check(reference, current);
        double sum = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double r = Floor(reference[i]), c = Floor(current[i]);
            sum += r * Math.Log(r / c);
        }
        return sum;
    }

    /// <summary>The Jensen–Shannon divergence (natural log; between 0 and ln 2).</summary>
    public static double JensenShannon(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        Check(p, q);
        double sp = 0, sq = 0;
        for (int i = 0; i < p.Length; i++) { sp += p[i]; sq += q[i]; }
        double js = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;
            if (a > 0) js += a * Math.Log(a / m);
            if (b > 0) js += b * Math.Log(b / m);
        }
        double distance = Math.Sqrt(js / 2);
        return distance * distance;
    }

    private static double Floor(double p) => p == 0 ? Epsilon : p;

    private static void Check(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length || a.Length == 0)
            throw new ArgumentException($"Binned proportions must have the same, non-zero number of bins; got {a.Length} and {b.Length}.");
    }
}
