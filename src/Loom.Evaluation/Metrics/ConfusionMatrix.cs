// The confusion matrix of a single-label classifier: rows are true labels, columns predicted
// labels, both in label order (scikit-learn's confusion_matrix(y_true, y_pred, labels=...)).
namespace Loom.Evaluation.Metrics;

/// <summary>Counts of (true label, predicted label) pairs; row = true, column = predicted, in <see cref="Labels"/> order.</summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts; // (K, K) row-major

    /// <summary>The label of each row and column.</summary>
    public int[] Labels { get; }

    /// <summary>Number of samples with true label <c>Labels[row]</c> predicted as <c>Labels[column]</c>.</summary>
    public long this[int row, int column]
    {
        get
        {
            // checked separately: a flat index alone would read the next row for an out-of-range column
            if ((uint)row >= (uint)Labels.Length) throw new ArgumentOutOfRangeException(nameof(row), row, $"row must lie in 0..{Labels.Length - 1}.");
            if ((uint)column >= (uint)Labels.Length) throw new ArgumentOutOfRangeException(nameof(column), column, $"column must lie in 0..{Labels.Length - 1}.");
            return _counts[row * Labels.Length + column];
        }
    }

    /// <summary>Total number of samples.</summary>
    public long Total { get; }

    private ConfusionMatrix(int[] labels, long[] counts)
    {
        Labels = labels;
        _counts = counts;
        Total = Prf.Sum(counts);
    }

    /// <summary>
    /// Counts the pairs. <paramref name="labels"/> fixes the row/column order (null: the sorted labels present in either
    /// input); a value outside it is an <see cref="ArgumentException"/>.
    /// </summary>
    public static ConfusionMatrix Compute(ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred, IReadOnlyList<int>? labels = null)
    {
        Check.NotEmpty(yTrue.Length, nameof(yTrue));
        Check.SameLength(yTrue.Length, nameof(yTrue), yPred.Length, nameof(yPred));
        var index = LabelIndex.Create(labels, yTrue, nameof(yTrue), yPred, nameof(yPred));
        return FromIndex(index, yTrue, yPred);
    }

    internal static ConfusionMatrix FromIndex(LabelIndex index, ReadOnlySpan<int> yTrue, ReadOnlySpan<int> yPred)
    {
        int k = index.Count;
        var counts = new long[k * k];
        for (int i = 0; i < yTrue.Length; i++)
            counts[index.PositionOf(yTrue[i]) * k + index.PositionOf(yPred[i])]++;
        return new ConfusionMatrix(index.Labels, counts);
    }

    /// <summary>True samples per label (row sums).</summary>
    public long[] TrueCounts()
    {
        int k = Labels.Length;
        var sums = new long[k];
        for (int r = 0; r < k; r++) for (int c = 0; c < k; c++) sums[r] += _counts[r * k + c];
        return sums;
    }

    /// <summary>Predicted samples per label (column sums).</summary>
    public long[] PredictedCounts()
    {
        int k = Labels.Length;
        var sums = new long[k];
        for (int r = 0; r < k; r++) for (int c = 0; c < k; c++) sums[c] += _counts[r * k + c];
        return sums;
    }

    /// <summary>Correct predictions per label (the diagonal).</summary>
    public long[] TruePositives()
    {
        int k = Labels.Length;
        var d = new long[k];
        for (int i = 0; i < k; i++) d[i] = _counts[i * k + i];
        return d;
    }

    /// <summary>The matrix as jagged rows (for JSON and display).</summary>
    public long[][] ToRows()
    {
        int k = Labels.Length;
        var rows = new long[k][];
        for (int r = 0; r < k; r++) rows[r] = _counts.AsSpan(r * k, k).ToArray();
        return rows;
    }
}
