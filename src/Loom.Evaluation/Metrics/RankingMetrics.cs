// Threshold-free ranking metrics equal to scikit-learn 1.2.1: roc_auc_score (binary, and
// multi-class one-vs-rest with macro/weighted/micro averages), average_precision_score (the
// step-wise PR-AUC, not a trapezoid) and auc (trapezoidal area of any curve, e.g. the "PR-AUC"
// some tools report as auc(recall, precision)). Multi-class average precision is sklearn's
// average_precision_score(label_binarize(y, classes=labels), probabilities, average=...).
namespace Loom.Evaluation.Metrics;

/// <summary>ROC-AUC, average precision (PR-AUC) and the trapezoidal area under a curve, as scikit-learn.</summary>
public static class RankingMetrics
{
    /// <summary>
    /// Binary ROC-AUC (<c>roc_auc_score(y_true, scores)</c>): <paramref name="yTrue"/> must hold exactly two labels and
    /// <paramref name="scores"/> scores the greater one.
    /// </summary>
    public static double RocAuc(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), scores.Length, nameof(scores));
        Check.Finite(scores, nameof(scores));
        var present = LabelIndex.Create(null, yTrue, nameof(yTrue));
        if (present.Count != 2)
            throw new ArgumentException(
                $"yTrue holds {present.Count} label(s) [{string.Join(", ", present.Labels)}]: binary ROC AUC needs exactly two " +
                (present.Count < 2 ? "(it is undefined when only one class is present)." : "(use RocAucOneVsRest for more)."), nameof(yTrue));
        return BinaryRocAuc(BinaryCurve.Positives(yTrue, present.Labels[1]), scores, "yTrue");
    }

    /// <summary>
    /// Multi-class ROC-AUC, one-vs-rest (<c>roc_auc_score(y, p, multi_class="ovr", average=..., labels=...)</c>).
    /// <paramref name="probabilities"/> is (samples × classCount) row-major, rows summing to 1; column j scores the
    /// j-th label (ascending). Every class must occur in <paramref name="yTrue"/> and not be all of it.
    /// </summary>
    public static double RocAucOneVsRest(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> probabilities, int classCount,
        Average average = Average.Macro, IReadOnlyList<int>? labels = null)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.Matrix(probabilities.Length, nameof(probabilities), yTrue.Length, nameof(yTrue), classCount, nameof(classCount));
        Check.RowsSumToOne(probabilities, classCount, nameof(probabilities));
        var index = ColumnLabels(yTrue, labels, classCount);
        if (average is not (Average.Macro or Average.Weighted or Average.Micro))
            throw new ArgumentException($"average is {average}: one-vs-rest ROC AUC takes Macro, Weighted or Micro.", nameof(average));
        return OneVsRest(yTrue, probabilities, index, average, roc: true);
    }

    /// <summary>
    /// Average precision (<c>average_precision_score(y_true, scores, pos_label=positiveLabel)</c>): the step-wise
    /// area Σ (R_n − R_{n−1}) P_n under the precision-recall curve.
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int positiveLabel = 1)
    {
        CheckBinaryScores(yTrue, scores, positiveLabel);
        return PrecisionRecallCurve.FromCurve(BinaryCurve.Compute(BinaryCurve.Positives(yTrue, positiveLabel), scores)).AveragePrecision();
    }

    /// <summary>
    /// Multi-class average precision, one-vs-rest with a macro, weighted (by positives) or micro average
    /// (<c>average_precision_score(label_binarize(y, classes=labels), probabilities, average=...)</c>).
    /// </summary>
    public static double AveragePrecisionOneVsRest(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> probabilities, int classCount,
        Average average = Average.Macro, IReadOnlyList<int>? labels = null)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.Matrix(probabilities.Length, nameof(probabilities), yTrue.Length, nameof(yTrue), classCount, nameof(classCount));
        Check.Finite(probabilities, nameof(probabilities));
        var index = ColumnLabels(yTrue, labels, classCount);
        if (average is not (Average.Macro or Average.Weighted or Average.Micro))
            throw new ArgumentException($"average is {average}: one-vs-rest average precision takes Macro, Weighted or Micro.", nameof(average));
        return OneVsRest(yTrue, probabilities, index, average, roc: false);
    }

    /// <summary>Trapezoidal area under the points (x, y); x must be monotonic (<c>sklearn.metrics.auc</c>).</summary>
    public static double Auc(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Check.SameLength(x.Length, nameof(x), y.Length, nameof(y));
        if (x.Length < 2)
            throw new ArgumentException($"x has {x.Length} point(s): the area under a curve needs at least 2.", nameof(x));
        bool anyDecrease = false, allNonIncreasing = true;
        for (int i = 0; i + 1 < x.Length; i++)
        {
            double dx = x[i + 1] - x[i];
            if (dx < 0) anyDecrease = true;
            if (dx > 0) allNonIncreasing = false;
        }
        double direction = 1;
        if (anyDecrease)
        {
            if (!allNonIncreasing)
                throw new ArgumentException("x is neither increasing nor decreasing: the area is defined for a monotonic curve.", nameof(x));
            direction = -1;
        }
        double area = 0;
        for (int i = 0; i + 1 < x.Length; i++) area += (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0;
        return direction * area;
    }

    /// <summary>The trapezoidal area under the precision-recall curve, <c>auc(recall, precision)</c> (optimistic next to <see cref="AveragePrecision"/>).</summary>
    public static double PrecisionRecallAucTrapezoid(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int positiveLabel = 1)
    {
        var curve = PrecisionRecallCurve.Compute(yTrue, scores, positiveLabel);
        return Auc(curve.Recall, curve.Precision);
    }

    internal static double BinaryRocAuc(bool[] positive, ReadOnlySpan<double> scores, string what)
    {
        int pos = 0;
        foreach (bool p in positive) if (p) pos++;
        if (pos == 0 || pos == positive.Length)
            throw new ArgumentException(
                $"{what} has only {(pos == 0 ? "negative" : "positive")} samples: ROC AUC is undefined when only one class is present.", "yTrue");
        var roc = RocCurve.FromCurve(BinaryCurve.Compute(positive, scores), dropIntermediate: true);
        return Auc(roc.FalsePositiveRate, roc.TruePositiveRate);
    }

    /// <summary>sklearn's _average_binary_score over the columns of a (samples × K) score matrix.</summary>
    internal static double OneVsRestColumns(ReadOnlySpan<bool> truth, ReadOnlySpan<double> scores, int columns, Average average,
        bool roc, Func<int, string> columnName)
    {
        int n = truth.Length / columns;
        if (average == Average.Micro)
            return roc ? BinaryRocAuc(truth.ToArray(), scores, "the flattened indicator matrix")
                       : PrecisionRecallCurve.FromCurve(BinaryCurve.Compute(truth, scores)).AveragePrecision();
        var score = new double[columns];
        var weight = new long[columns];
        var positive = new bool[n];
        var column = new double[n];
        for (int c = 0; c < columns; c++)
        {
            for (int i = 0; i < n; i++)
            {
                positive[i] = truth[i * columns + c];
                column[i] = scores[i * columns + c];
                if (positive[i]) weight[c]++;
            }
            score[c] = roc ? BinaryRocAuc(positive, column, columnName(c))
                           : PrecisionRecallCurve.FromCurve(BinaryCurve.Compute(positive, column)).AveragePrecision();
        }
        if (average == Average.Weighted)
        {
            if (Prf.Sum(weight) == 0) return 0;   // sklearn: np.isclose(weights.sum(), 0) → 0
            double sum = 0, total = 0;
            for (int c = 0; c < columns; c++)
            {
                sum += (weight[c] == 0 ? 0 : score[c]) * weight[c];
                total += weight[c];
            }
            return sum / total;
        }
        double mean = 0;
        foreach (double s in score) mean += s;
        return mean / columns;
    }

    private static double OneVsRest(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> probabilities, LabelIndex index, Average average, bool roc)
    {
        int k = index.Count, n = yTrue.Length;
        var truth = new bool[n * k];
        for (int i = 0; i < n; i++) truth[i * k + index.PositionOf(yTrue[i])] = true;
        return OneVsRestColumns(truth, probabilities, k, average, roc, c => $"class {index.Labels[c]} (one-vs-rest)");
    }

    private static LabelIndex ColumnLabels(ReadOnlySpan<int> yTrue, IReadOnlyList<int>? labels, int classCount)
    {
        var index = LabelIndex.Create(labels, yTrue, nameof(yTrue));
        for (int i = 1; i < index.Count; i++)
            if (index.Labels[i - 1] > index.Labels[i])
                throw new ArgumentException($"labels [{string.Join(", ", index.Labels)}] must be in ascending order: column j scores the j-th smallest label.", nameof(labels));
        if (index.Count != classCount)
            throw new ArgumentException(
                $"the label set [{string.Join(", ", index.Labels)}] has {index.Count} labels but classCount is {classCount}: " +
                (labels is null ? "a class is absent from yTrue; pass the full label set in labels." : "give one probability column per label."),
                labels is null ? nameof(yTrue) : nameof(labels));
        return index;
    }

    internal static void CheckBinaryScores(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> scores, int positiveLabel)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), scores.Length, nameof(scores));
        Check.Finite(scores, nameof(scores));
        var present = LabelIndex.Create(null, yTrue, nameof(yTrue));
        if (present.Count > 2)
            throw new ArgumentException(
                $"yTrue holds {present.Count} labels [{string.Join(", ", present.Labels)}]: a binary curve needs at most two (use the one-vs-rest metrics).", nameof(yTrue));
        if (present.Count == 2 && !present.Contains(positiveLabel))
            throw new ArgumentException(
                $"positiveLabel is {positiveLabel}, which is not one of the labels [{string.Join(", ", present.Labels)}].", nameof(positiveLabel));
    }
}
