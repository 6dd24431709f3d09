// Precision and recall at every distinct threshold, as scikit-learn 1.2.1's precision_recall_curve:
// ordered by increasing threshold, with the final point (precision 1, recall 0) appended and no
// threshold for it. With no positive sample recall is 1 everywhere (sklearn warns; so does the report).
namespace Loom.Evaluation.Metrics;

/// <summary>Precision and recall at increasing thresholds, plus the end point (1, 0) (<c>sklearn.metrics.precision_recall_curve</c>).</summary>
public sealed record PrecisionRecallCurve(double[] Precision, double[] Recall, double[] Thresholds)
{
    /// <summary>Computes the curve; samples with <c>yTrue == positiveLabel</c> are positives.</summary>
    public static PrecisionRecallCurve Compute(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int positiveLabel = 1)
    {
        RankingMetrics.CheckBinaryScores(yTrue, scores, positiveLabel);
        return FromCurve(BinaryCurve.Compute(BinaryCurve.Positives(yTrue, positiveLabel), scores));
    }

    internal static PrecisionRecallCurve FromCurve(BinaryCurve curve)
    {
        double[] fps = curve.FalsePositives, tps = curve.TruePositives;
        int m = fps.Length;
        var precision = new double[m + 1];
        var recall = new double[m + 1];
        var thresholds = new double[m];
        double positives = tps[m - 1];
        for (int i = 0; i < m; i++)
        {
            int r = m - 1 - i;   // reversed: increasing threshold
            double predicted = tps[i] + fps[i];
            precision[r] = predicted != 0 ? tps[i] / predicted : 0;
            recall[r] = positives == 0 ? 1 : tps[i] / positives;
            thresholds[r] = curve.Thresholds[i];
        }
        precision[m] = 1;
        recall[m] = 0;
        return new PrecisionRecallCurve(precision, recall, thresholds);
    }

    /// <summary>Average precision: Σ (R_n − R_{n−1}) P_n, the step-wise area (<c>average_precision_score</c>).</summary>
    public double AveragePrecision()
    {
        double sum = 0;
        for (int i = 0; i + 1 < Recall.Length; i++) sum += (Recall[i + 1] - Recall[i]) * Precision[i];
        return -sum;
    }
}
