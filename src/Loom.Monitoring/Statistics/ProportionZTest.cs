// The two-proportion z-test Evidently uses for binary columns (its `z` stattest): the share of the first
// category (in ordinal order) in each sample, pooled variance P(1 − P)(1/n1 + 1/n2), two-sided p = 2(1 − Φ(|z|)).
// Both samples holding the same single value gives p = 1.
namespace Loom.Monitoring.Statistics;

/// <summary>The two-proportion z-test.</summary>
public static class ProportionZTest
{
    /// <summary>z and its two-sided p-value.</summary>
    public static TestResult Categories(IReadOnlyList<string> reference, IReadOnlyList<string> current)
    {
        if (reference.Count == 0 || current.Count == 0)
            throw new ArgumentException($"The z-test needs values in both samples; got {reference.Count} reference and {current.Count} current values.");
        var keys = reference.Concat(current).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (keys.Length == 1) return new TestResult(0, 1);
        string first = keys[0];
        double n1 = reference.Count, n2 = current.Count;
        double p1 = reference.Count(v => v != first) / n1, p2 = current.Count(v => v != first) / n2;
        double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
        double z = (p1 - p2) / Math.Sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
        return new TestResult(z, 2 * SpecialFunctions.NormalSurvival(Math.Abs(z)));
    }
}
