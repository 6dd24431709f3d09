// The counts behind every threshold curve: for each distinct score, taken from the highest down,
// the number of false and true positives among samples scoring at least that much
// (scikit-learn's _binary_clf_curve). Tied scores share one threshold, which is how ties enter
// ROC-AUC and average precision exactly as sklearn treats them: a tie moves the curve diagonally.
namespace Loom.Evaluation.Metrics;

internal readonly record struct BinaryCurve(double[] FalsePositives, double[] TruePositives, double[] Thresholds)
{
    public static BinaryCurve Compute(ReadOnlySpan<bool> positive, ReadOnlySpan<double> scores)
    {
        int n = scores.Length;
        var sorted = scores.ToArray();
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(sorted, order);      // ascending; the order inside a tie does not matter: only run ends are kept
        Array.Reverse(sorted);
        Array.Reverse(order);

        int distinct = 1;
        for (int i = 0; i + 1 < n; i++) if (sorted[i] != sorted[i + 1]) distinct++;
        var fps = new double[distinct];
        var tps = new double[distinct];
        var thresholds = new double[distinct];
        double cumulative = 0;
        for (int i = 0, t = 0; i < n; i++)
        {
            if (positive[order[i]]) cumulative++;
            if (i == n - 1 || sorted[i] != sorted[i + 1])
            {
                tps[t] = cumulative;
                fps[t] = 1 + i - cumulative;
                thresholds[t] = sorted[i];
                t++;
            }
        }
        return new BinaryCurve(fps, tps, thresholds);
    }

    /// <summary>positive[i] = (yTrue[i] == positiveLabel), after the shared checks.</summary>
    public static bool[] Positives(ReadOnlySpan<int> yTrue, int positiveLabel)
    {
        var positive = new bool[yTrue.Length];
        for (int i = 0; i < yTrue.Length; i++) positive[i] = yTrue[i] == positiveLabel;
        return positive;
    }
}
