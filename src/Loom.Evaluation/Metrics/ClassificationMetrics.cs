// Single-label classification metrics, each equal to scikit-learn 1.2.1's function of the same name
// (accuracy_score, precision_recall_fscore_support and its precision/recall/f1/fbeta helpers,
// matthews_corrcoef, log_loss) on the committed fixture vectors
// (tests/Loom.Evaluation.Tests/Fixtures/make_metric_fixtures.py). Labels are integer class ids;
// names belong to the report. Deliberate differences from sklearn, all towards failing loudly:
// a value outside an explicit label set is an error (sklearn drops the sample), and log-loss
// probability rows must sum to 1 within np.allclose's tolerance (sklearn 1.2 renormalizes silently).
namespace Loom.Evaluation.Metrics;

/// <summary>Accuracy, precision, recall, F-beta, Matthews correlation and log loss, as scikit-learn.</summary>
public static class ClassificationMetrics
{
    /// <summary>numpy's float64 machine epsilon, log loss's default clipping (sklearn 1.2's <c>eps="auto"</c> for float64 input).</summary>
    public const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>Fraction of samples whose prediction equals the label (<c>accuracy_score</c>).</summary>
    public static double Accuracy(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), yPred.Length, nameof(yPred));
        long correct = 0;
        for (int i = 0; i < yTrue.Length; i++) if (yTrue[i] == yPred[i]) correct++;
        return (double)correct / yTrue.Length;
    }

    /// <summary>Precision tp / (tp + fp) (<c>precision_score</c>).</summary>
    public static double Precision(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, PrecisionRecallOptions? options = null)
        => PrecisionRecallFScore(yTrue, yPred, 1.0, options).Precision;

    /// <summary>Recall tp / (tp + fn) (<c>recall_score</c>).</summary>
    public static double Recall(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, PrecisionRecallOptions? options = null)
        => PrecisionRecallFScore(yTrue, yPred, 1.0, options).Recall;

    /// <summary>F1, the harmonic mean of precision and recall (<c>f1_score</c>).</summary>
    public static double F1(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, PrecisionRecallOptions? options = null)
        => PrecisionRecallFScore(yTrue, yPred, 1.0, options).FScore;

    /// <summary>F-beta: recall weighted <paramref name="beta"/> times as much as precision (<c>fbeta_score</c>).</summary>
    public static double FBeta(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, double beta, PrecisionRecallOptions? options = null)
        => PrecisionRecallFScore(yTrue, yPred, beta, options).FScore;

    /// <summary>Averaged precision, recall and F-beta (<c>precision_recall_fscore_support</c> with an average).</summary>
    public static AveragedScores PrecisionRecallFScore(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, double beta = 1.0,
        PrecisionRecallOptions? options = null)
    {
        options ??= PrecisionRecallOptions.Default;
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), yPred.Length, nameof(yPred));
        var index = LabelIndex.Create(options.Labels, yTrue, nameof(yTrue), yPred, nameof(yPred));
        switch (options.Average)
        {
            case Average.Binary:
            {
                int pos = options.PositiveLabel;
                CheckBinary(yTrue, yPred, pos, options.Labels is null ? null : index);
                long tp = 0, predicted = 0, truth = 0;
                for (int i = 0; i < yTrue.Length; i++)
                {
                    bool t = yTrue[i] == pos, p = yPred[i] == pos;
                    if (t) truth++;
                    if (p) predicted++;
                    if (t && p) tp++;
                }
                return Prf.Averaged([tp], [predicted], [truth], beta, options.ZeroDivision, Average.Macro);
            }
            case Average.Micro or Average.Macro or Average.Weighted:
            {
                var cm = ConfusionMatrix.FromIndex(index, yTrue, yPred);
                return Prf.Averaged(cm.TruePositives(), cm.PredictedCounts(), cm.TrueCounts(), beta, options.ZeroDivision, options.Average);
            }
            default:
                throw new ArgumentException(
                    $"options.Average is {options.Average}: single-label metrics take Binary, Micro, Macro or Weighted (Samples is for multi-label).",
                    nameof(options));
        }
    }

    /// <summary>Per-class precision, recall, F-beta and support (<c>precision_recall_fscore_support(average=None)</c>).</summary>
    public static PerClassScores PerClass(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, IReadOnlyList<int>? labels = null,
        double beta = 1.0, ZeroDivision zeroDivision = ZeroDivision.Warn)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), yPred.Length, nameof(yPred));
        var cm = ConfusionMatrix.Compute(yTrue, yPred, labels);
        return FromCounts(cm.Labels, cm.TruePositives(), cm.PredictedCounts(), cm.TrueCounts(), beta, zeroDivision);
    }

    internal static PerClassScores FromCounts(int[] labels, long[] tp, long[] predicted, long[] truth, double beta, ZeroDivision zeroDivision)
    {
        int k = labels.Length;
        var precision = new double[k];
        var recall = new double[k];
        var fscore = new double[k];
        Prf.Scores(tp, predicted, truth, beta, zeroDivision, precision, recall, fscore);
        return new PerClassScores(labels, precision, recall, fscore, truth, predicted);
    }

    /// <summary>
    /// Matthews correlation coefficient, multi-class (Gorodkin's R_K; <c>matthews_corrcoef</c>): 0 when either the
    /// labels or the predictions hold a single class.
    /// </summary>
    public static double MatthewsCorrelation(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, IReadOnlyList<int>? labels = null)
    {
        var cm = ConfusionMatrix.Compute(yTrue, yPred, labels);
        return MatthewsCorrelation(cm);
    }

    /// <summary>Matthews correlation coefficient of a confusion matrix.</summary>
    public static double MatthewsCorrelation(ConfusionMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        long[] t = matrix.TrueCounts(), p = matrix.PredictedCounts(), d = matrix.TruePositives();
        // Counts are integers, so every product below is exact in double up to 2⁵³ (94M samples).
        double correct = 0, samples = 0, tp = 0, pp = 0, tt = 0;
        for (int k = 0; k < t.Length; k++)
        {
            correct += d[k];
            samples += p[k];
            tp += (double)t[k] * p[k];
            pp += (double)p[k] * p[k];
            tt += (double)t[k] * t[k];
        }
        double covTruePred = correct * samples - tp;
        double covPredPred = samples * samples - pp;
        double covTrueTrue = samples * samples - tt;
        if (covPredPred * covTrueTrue == 0) return 0.0;
        return covTruePred / Math.Sqrt(covTrueTrue * covPredPred);
    }

    /// <summary>
    /// Log loss of (samples × classCount) probabilities, row-major; column j is the j-th label in ascending order
    /// (<c>log_loss(y_true, y_pred, labels=labels)</c>). Probabilities are clipped to [ε, 1 − ε] and each row
    /// renormalized, as sklearn; <paramref name="epsilon"/> defaults to <see cref="MachineEpsilon"/>.
    /// </summary>
    public static double LogLoss(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> probabilities, int classCount,
        IReadOnlyList<int>? labels = null, double? epsilon = null)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.Matrix(probabilities.Length, nameof(probabilities), yTrue.Length, nameof(yTrue), classCount, nameof(classCount));
        Check.RowsSumToOne(probabilities, classCount, nameof(probabilities));
        var index = LogLossLabels(yTrue, labels, classCount);
        double eps = Epsilon(epsilon);
        double total = 0;
        for (int i = 0; i < yTrue.Length; i++)
        {
            var row = probabilities.Slice(i * classCount, classCount);
            double sum = 0;
            foreach (double v in row) sum += Clip(v, eps);
            total += -Math.Log(Clip(row[index.PositionOf(yTrue[i])], eps) / sum);
        }
        return total / yTrue.Length;
    }

    /// <summary>
    /// Binary log loss from the probability of the positive (greater) label of two
    /// (<c>log_loss(y_true, p)</c> with a 1-D <c>p</c>).
    /// </summary>
    public static double LogLoss(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> positiveProbabilities,
        IReadOnlyList<int>? labels = null, double? epsilon = null)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), positiveProbabilities.Length, nameof(positiveProbabilities));
        Check.Probabilities(positiveProbabilities, nameof(positiveProbabilities));
        var index = LogLossLabels(yTrue, labels, 2);
        double eps = Epsilon(epsilon);
        double total = 0;
        for (int i = 0; i < yTrue.Length; i++)
        {
            double p = Clip(positiveProbabilities[i], eps), q = 1 - p, sum = q + p;
            total += -Math.Log((index.PositionOf(yTrue[i]) == 1 ? p : q) / sum);
        }
        return total / yTrue.Length;
    }

    private static double Clip(double p, double eps) => Math.Min(Math.Max(p, eps), 1 - eps);

    private static double Epsilon(double? epsilon)
    {
        double eps = epsilon ?? MachineEpsilon;
        if (!(eps > 0 && eps < 0.5))
            throw new ArgumentOutOfRangeException(nameof(epsilon), eps, "epsilon (log-loss clipping) must lie in (0, 0.5); the default is the float64 machine epsilon.");
        return eps;
    }

    private static LabelIndex LogLossLabels(ReadOnlySpan<int> yTrue, IReadOnlyList<int>? labels, int columns)
    {
        var index = LabelIndex.Create(labels, yTrue, nameof(yTrue));
        for (int i = 1; i < index.Count; i++)
            if (index.Labels[i - 1] > index.Labels[i])
                throw new ArgumentException($"labels [{string.Join(", ", index.Labels)}] must be in ascending order: column j of the probabilities is the j-th smallest label.", nameof(labels));
        if (index.Count < 2)
            throw new ArgumentException(
                $"yTrue holds only the label {index.Labels[0]}: log loss needs two or more labels; pass the full label set in labels.", labels is null ? nameof(yTrue) : nameof(labels));
        if (index.Count != columns)
            throw new ArgumentException(
                $"the label set [{string.Join(", ", index.Labels)}] has {index.Count} labels but the probabilities have {columns} columns: " +
                (labels is null ? "some class is absent from yTrue; pass the full label set in labels." : "give one column per label."),
                labels is null ? nameof(yTrue) : nameof(labels));
        return index;
    }

    /// <summary>sklearn's binary checks; <paramref name="explicitLabels"/> is the caller's label set, null when inferred.</summary>
    private static void CheckBinary(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, int positiveLabel, LabelIndex? explicitLabels)
    {
        var present = LabelIndex.Create(null, yTrue, nameof(yTrue), yPred, nameof(yPred));
        if (present.Count > 2)
            throw new ArgumentException(
                $"yTrue and yPred hold {present.Count} labels [{string.Join(", ", present.Labels)}] but options.Average is Binary: " +
                "choose Macro, Micro or Weighted for more than two classes.", nameof(yTrue));
        if (present.Count == 2 && !present.Contains(positiveLabel))
            throw new ArgumentException(
                $"options.PositiveLabel is {positiveLabel}, which is not one of the labels [{string.Join(", ", present.Labels)}].", "options");
        // (with one label present, sklearn scores the absent positive label: every count is 0 and zero_division decides)
        if (explicitLabels is not null && !explicitLabels.Contains(positiveLabel))
            throw new ArgumentException(
                $"options.PositiveLabel is {positiveLabel}, which is not in options.Labels [{string.Join(", ", explicitLabels.Labels)}].", "options");
    }
}
