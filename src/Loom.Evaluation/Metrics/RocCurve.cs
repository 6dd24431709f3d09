// The receiver operating characteristic of a binary scorer, point for point as scikit-learn
// 1.2.1's roc_curve: thresholds decreasing, the first one max(score) + 1 (no sample predicted
// positive; sklearn ≥ 1.3 writes +inf there instead), and by default (dropIntermediate) the points
// that are collinear with their neighbours removed, which leaves the area unchanged.
namespace Loom.Evaluation.Metrics;

/// <summary>False- and true-positive rates at decreasing thresholds (<c>sklearn.metrics.roc_curve</c>).</summary>
public sealed record RocCurve(double[] FalsePositiveRate, double[] TruePositiveRate, double[] Thresholds)
{
    /// <summary>
    /// Computes the curve. Samples with <c>yTrue == positiveLabel</c> are positives. A rate whose class is absent is NaN
    /// everywhere, as sklearn.
    /// </summary>
    public static RocCurve Compute(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int positiveLabel = 1, bool dropIntermediate = true)
    {
        RankingMetrics.CheckBinaryScores(yTrue, scores, positiveLabel);
        return FromCurve(BinaryCurve.Compute(BinaryCurve.Positives(yTrue, positiveLabel), scores), dropIntermediate);
    }

    internal static RocCurve FromCurve(BinaryCurve curve, bool dropIntermediate)
    {
        double[] fps = curve.FalsePositives, tps = curve.TruePositives, thresholds = curve.Thresholds;
        int m = fps.Length;
        var keep = new List<int>(m);
        for (int i = 0; i < m; i++)
        {
            // sklearn keeps a point when the second difference of fps or tps is non-zero there (a corner)
            bool corner = !dropIntermediate || m <= 2 || i == 0 || i == m - 1
                || fps[i + 1] - 2 * fps[i] + fps[i - 1] != 0 || tps[i + 1] - 2 * tps[i] + tps[i - 1] != 0;
            if (corner) keep.Add(i);
        }
        int count = keep.Count + 1;
        var fpr = new double[count];
        var tpr = new double[count];
        var th = new double[count];
        th[0] = thresholds[keep[0]] + 1;
        double lastFp = fps[m - 1], lastTp = tps[m - 1];
        for (int j = 0; j < keep.Count; j++)
        {
            fpr[j + 1] = fps[keep[j]];
            tpr[j + 1] = tps[keep[j]];
            th[j + 1] = thresholds[keep[j]];
        }
        for (int j = 0; j < count; j++)
        {
            fpr[j] = lastFp <= 0 ? double.NaN : fpr[j] / lastFp;
            tpr[j] = lastTp <= 0 ? double.NaN : tpr[j] / lastTp;
        }
        return new RocCurve(fpr, tpr, th);
    }
}
