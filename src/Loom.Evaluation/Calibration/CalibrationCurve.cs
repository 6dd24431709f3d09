// The reliability diagram of a probabilistic classifier and its expected calibration error.
// Bins are scikit-learn 1.2.1's calibration_curve exactly: edges np.linspace(0, 1, n+1) (each edge
// i·(1/n), bit for bit) or np.percentile of the probabilities (numpy's linear method, replicated
// operation for operation), a probability p falls in bin #{inner edges < p} (np.searchsorted,
// side="left": bins are (lo, hi], the first also holds 0), and empty bins are dropped.
// ECE = Σ_b (n_b / N)·|accuracy_b − confidence_b| over those bins (Naeini et al., AAAI 2015; Guo et
// al., "On Calibration of Modern Neural Networks", ICML 2017). sklearn has no ECE: the fixture
// script writes it out by hand with the same bins. TopLabel gives Guo's multi-class form: confidence
// = the largest probability, "positive" = the arg-max was right.
using Loom.Evaluation.Metrics;

namespace Loom.Evaluation.Calibration;

/// <summary>
/// Reliability-diagram bins (<c>sklearn.calibration.calibration_curve</c>): for each non-empty bin, the fraction of
/// positives (<see cref="ProbabilityTrue"/>), the mean predicted probability (<see cref="ProbabilityPredicted"/>) and the
/// sample count; plus all <see cref="BinEdges"/> and the <see cref="ExpectedCalibrationError"/>.
/// </summary>
public sealed record CalibrationCurve(double[] BinEdges, double[] ProbabilityTrue, double[] ProbabilityPredicted, long[] Counts,
    double ExpectedCalibrationError)
{
    /// <summary>Bins the probabilities of the positive class (samples with <c>yTrue == positiveLabel</c> are positives).</summary>
    public static CalibrationCurve Compute(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> probabilities, int binCount = 5,
        CalibrationStrategy strategy = CalibrationStrategy.Uniform, int positiveLabel = 1)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), probabilities.Length, nameof(probabilities));
        Check.Probabilities(probabilities, nameof(probabilities));
        RankingMetricsBinary(yTrue, positiveLabel);
        var positive = new bool[yTrue.Length];
        for (int i = 0; i < yTrue.Length; i++) positive[i] = yTrue[i] == positiveLabel;
        return FromPositives(positive, probabilities, binCount, strategy);
    }

    /// <summary>
    /// Top-label calibration of a multi-class classifier (Guo et al. 2017): confidence = max probability of each
    /// (samples × classCount) row; correct = its column (the first maximum, as argmax) is the true label's.
    /// </summary>
    public static CalibrationCurve TopLabel(ReadOnlySpan<int> yTrue, ReadOnlySpan<double> probabilities, int classCount, int binCount = 10,
        CalibrationStrategy strategy = CalibrationStrategy.Uniform, IReadOnlyList<int>? labels = null)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.Matrix(probabilities.Length, nameof(probabilities), yTrue.Length, nameof(yTrue), classCount, nameof(classCount));
        Check.RowsSumToOne(probabilities, classCount, nameof(probabilities));
        int[] columnLabels = labels is null ? Enumerable.Range(0, classCount).ToArray() : [.. labels];
        if (columnLabels.Length != classCount)
            throw new ArgumentException($"labels has {columnLabels.Length} entries but classCount is {classCount}: give one label per column.", nameof(labels));
        var correct = new bool[yTrue.Length];
        var confidence = new double[yTrue.Length];
        for (int i = 0; i < yTrue.Length; i++)
        {
            var row = probabilities.Slice(i * classCount, classCount);
            int best = 0;
            for (int c = 1; c < classCount; c++) if (row[c] > row[best]) best = c;
            confidence[i] = row[best];
            correct[i] = columnLabels[best] == yTrue[i];
        }
        return FromPositives(correct, confidence, binCount, strategy);
    }

    private static CalibrationCurve FromPositives(bool[] positive, ReadOnlySpan<double> probabilities, int binCount, CalibrationStrategy strategy)
    {
        if (binCount < 1) throw new ArgumentOutOfRangeException(nameof(binCount), binCount, "binCount must be at least 1.");
        double[] edges = strategy switch
        {
            CalibrationStrategy.Uniform => UniformEdges(binCount),
            CalibrationStrategy.Quantile => QuantileEdges(probabilities, binCount),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "strategy must be Uniform or Quantile."),
        };
        var sums = new double[binCount];
        var trues = new double[binCount];
        var totals = new long[binCount];
        for (int i = 0; i < probabilities.Length; i++)
        {
            double p = probabilities[i];
            int bin = 0;
            while (bin < binCount - 1 && edges[bin + 1] < p) bin++;   // searchsorted(edges[1:-1], p, "left")
            sums[bin] += p;
            if (positive[i]) trues[bin] += 1;
            totals[bin]++;
        }
        var probTrue = new List<double>();
        var probPred = new List<double>();
        var counts = new List<long>();
        double ece = 0;
        for (int b = 0; b < binCount; b++)
        {
            if (totals[b] == 0) continue;
            double accuracy = trues[b] / totals[b], confidence = sums[b] / totals[b];
            probTrue.Add(accuracy);
            probPred.Add(confidence);
            counts.Add(totals[b]);
            ece += (double)totals[b] / probabilities.Length * Math.Abs(accuracy - confidence);
        }
        return new CalibrationCurve(edges, [.. probTrue], [.. probPred], [.. counts], ece);
    }

    /// <summary>np.linspace(0, 1, n + 1): edge i is i·(1/n) and the last is exactly 1.</summary>
    internal static double[] UniformEdges(int binCount)
    {
        var edges = new double[binCount + 1];
        double step = 1.0 / binCount;
        for (int i = 0; i < binCount; i++) edges[i] = i * step;
        edges[binCount] = 1.0;
        return edges;
    }

    /// <summary>np.percentile(p, np.linspace(0, 1, n + 1) * 100) with numpy's default "linear" method, step for step.</summary>
    internal static double[] QuantileEdges(ReadOnlySpan<double> probabilities, int binCount)
    {
        var sorted = probabilities.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        var quantiles = UniformEdges(binCount);
        var edges = new double[binCount + 1];
        for (int i = 0; i <= binCount; i++)
        {
            double q = quantiles[i] * 100 / 100;                   // percentile → quantile, as numpy
            double virtualIndex = (n - 1) * q;
            double previousIndex = Math.Floor(virtualIndex);
            if (virtualIndex >= n - 1) { edges[i] = sorted[n - 1]; continue; }
            double a = sorted[(int)previousIndex], b = sorted[(int)previousIndex + 1];
            double gamma = virtualIndex - previousIndex, diff = b - a;
            edges[i] = gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;   // numpy's _lerp
        }
        return edges;
    }

    private static void RankingMetricsBinary(ReadOnlySpan<int> yTrue, int positiveLabel)
    {
        var seen = new SortedSet<int>();
        foreach (int v in yTrue) { seen.Add(v); if (seen.Count > 2) break; }
        if (seen.Count > 2)
            throw new ArgumentException(
                $"yTrue holds more than two labels ({string.Join(", ", seen)}, ...): calibration curves are binary; use TopLabel for a multi-class classifier.", nameof(yTrue));
        if (seen.Count == 2 && !seen.Contains(positiveLabel))
            throw new ArgumentException($"positiveLabel is {positiveLabel}, which is not one of the labels [{string.Join(", ", seen)}].", nameof(positiveLabel));
    }
}
