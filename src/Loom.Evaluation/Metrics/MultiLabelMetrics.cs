// Metrics of a multi-label head (problem_type: multi_label_classification): inputs are
// (samples × labelCount) 0/1 indicator matrices, row-major, as scikit-learn's
// "multilabel-indicator" targets. Subset accuracy (accuracy_score), Hamming loss, per-label and
// micro/macro/weighted/samples precision, recall and F-beta (precision_recall_fscore_support),
// and per-label ROC-AUC / average precision from scores, each equal to scikit-learn 1.2.1.
namespace Loom.Evaluation.Metrics;

/// <summary>Multi-label metrics over (samples × labelCount) indicator matrices, as scikit-learn.</summary>
public static class MultiLabelMetrics
{
    /// <summary>Fraction of samples whose whole label row is predicted exactly (<c>accuracy_score</c> on indicators).</summary>
    public static double SubsetAccuracy(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, int labelCount)
    {
        int n = CheckPair(yTrue, yPred, labelCount);
        long exact = 0;
        for (int i = 0; i < n; i++)
            if (yTrue.Slice(i * labelCount, labelCount).SequenceEqual(yPred.Slice(i * labelCount, labelCount))) exact++;
        return (double)exact / n;
    }

    /// <summary>Fraction of (sample, label) entries predicted wrongly (<c>hamming_loss</c>).</summary>
    public static double HammingLoss(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, int labelCount)
    {
        CheckPair(yTrue, yPred, labelCount);
        long wrong = 0;
        for (int i = 0; i < yTrue.Length; i++) if (yTrue[i] != yPred[i]) wrong++;
        return (double)wrong / yTrue.Length;
    }

    /// <summary>Per-label precision, recall, F-beta and support; <see cref="PerClassScores.Labels"/> are the column indices.</summary>
    public static PerClassScores PerLabel(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, int labelCount, double beta = 1.0,
        ZeroDivision zeroDivision = ZeroDivision.Warn)
    {
        CheckPair(yTrue, yPred, labelCount);
        var (tp, predicted, truth) = LabelCounts(yTrue, yPred, labelCount);
        var labels = new int[labelCount];
        for (int j = 0; j < labelCount; j++) labels[j] = j;
        return ClassificationMetrics.FromCounts(labels, tp, predicted, truth, beta, zeroDivision);
    }

    /// <summary>Averaged precision, recall and F-beta: micro, macro, weighted (by label support) or samples.</summary>
    public static AveragedScores PrecisionRecallFScore(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, int labelCount,
        Average average, double beta = 1.0, ZeroDivision zeroDivision = ZeroDivision.Warn)
    {
        int n = CheckPair(yTrue, yPred, labelCount);
        switch (average)
        {
            case Average.Micro or Average.Macro or Average.Weighted:
            {
                var (tp, predicted, truth) = LabelCounts(yTrue, yPred, labelCount);
                return Prf.Averaged(tp, predicted, truth, beta, zeroDivision, average);
            }
            case Average.Samples:
            {
                // per-sample counts, then the mean of the per-sample scores
                var tp = new long[n];
                var predicted = new long[n];
                var truth = new long[n];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < labelCount; j++)
                    {
                        int t = yTrue[i * labelCount + j], p = yPred[i * labelCount + j];
                        truth[i] += t;
                        predicted[i] += p;
                        tp[i] += t & p;
                    }
                var precision = new double[n];
                var recall = new double[n];
                var fscore = new double[n];
                Prf.Scores(tp, predicted, truth, beta, zeroDivision, precision, recall, fscore);
                return new AveragedScores(Prf.Mean(precision, default), Prf.Mean(recall, default), Prf.Mean(fscore, default));
            }
            default:
                throw new ArgumentException($"average is {average}: multi-label metrics take Micro, Macro, Weighted or Samples.", nameof(average));
        }
    }

    /// <summary>ROC-AUC per label (<c>roc_auc_score(Y, S, average=None)</c>); every label needs positive and negative samples.</summary>
    public static double[] RocAucPerLabel(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int labelCount)
    {
        int n = CheckScores(yTrue, scores, labelCount);
        var result = new double[labelCount];
        var positive = new bool[n];
        var column = new double[n];
        for (int j = 0; j < labelCount; j++)
        {
            for (int i = 0; i < n; i++) { positive[i] = yTrue[i * labelCount + j] == 1; column[i] = scores[i * labelCount + j]; }
            result[j] = RankingMetrics.BinaryRocAuc(positive, column, $"label {j}");
        }
        return result;
    }

    /// <summary>Averaged ROC-AUC over labels: macro, weighted (by positives) or micro (<c>roc_auc_score(Y, S, average=...)</c>).</summary>
    public static double RocAuc(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int labelCount, Average average = Average.Macro)
    {
        CheckScores(yTrue, scores, labelCount);
        CheckRankingAverage(average);
        return RankingMetrics.OneVsRestColumns(Indicators(yTrue), scores, labelCount, average, roc: true, j => $"label {j}");
    }

    /// <summary>Averaged average precision over labels: macro, weighted or micro (<c>average_precision_score(Y, S, average=...)</c>).</summary>
    public static double AveragePrecision(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int labelCount, Average average = Average.Macro)
    {
        CheckScores(yTrue, scores, labelCount);
        CheckRankingAverage(average);
        return RankingMetrics.OneVsRestColumns(Indicators(yTrue), scores, labelCount, average, roc: false, j => $"label {j}");
    }

    private static bool[] Indicators(ReadOnlySpan<int> y)
    {
        var b = new bool[y.Length];
        for (int i = 0; i < y.Length; i++) b[i] = y[i] == 1;
        return b;
    }

    private static (long[] Tp, long[] Predicted, long[] Truth) LabelCounts(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, int labelCount)
    {
        var tp = new long[labelCount];
        var predicted = new long[labelCount];
        var truth = new long[labelCount];
        for (int i = 0; i < yTrue.Length; i++)
        {
            int j = i % labelCount, t = yTrue[i], p = yPred[i];
            truth[j] += t;
            predicted[j] += p;
            tp[j] += t & p;
        }
        return (tp, predicted, truth);
    }

    private static void CheckRankingAverage(Average average)
    {
        if (average is not (Average.Macro or Average.Weighted or Average.Micro))
            throw new ArgumentException($"average is {average}: per-label ranking metrics take Macro, Weighted or Micro.", nameof(average));
    }

    private static int CheckPair(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, int labelCount)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        if (labelCount < 1) throw new ArgumentOutOfRangeException(nameof(labelCount), labelCount, "labelCount must be at least 1.");
        if (yTrue.Length % labelCount != 0)
            throw new ArgumentException(
                $"yTrue has {yTrue.Length} values, not a multiple of labelCount {labelCount}: pass a row-major (samples × labels) matrix.", nameof(yTrue));
        int n = yTrue.Length / labelCount;
        Check.SameLength(yTrue.Length, nameof(yTrue), yPred.Length, nameof(yPred));
        Check.Binary01(yTrue, nameof(yTrue));
        Check.Binary01(yPred, nameof(yPred));
        return n;
    }

    private static int CheckScores(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int labelCount)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        if (labelCount < 1) throw new ArgumentOutOfRangeException(nameof(labelCount), labelCount, "labelCount must be at least 1.");
        if (yTrue.Length % labelCount != 0)
            throw new ArgumentException(
                $"yTrue has {yTrue.Length} values, not a multiple of labelCount {labelCount}: pass a row-major (samples × labels) matrix.", nameof(yTrue));
        int n = yTrue.Length / labelCount;
        Check.SameLength(yTrue.Length, nameof(yTrue), scores.Length, nameof(scores));
        Check.Binary01(yTrue, nameof(yTrue));
        Check.Finite(scores, nameof(scores));
        return n;
    }
}
