// Argument checks shared by every metric, so bad input fails the same way everywhere: an
// ArgumentException that names the argument as the caller wrote it, the offending value and its
// position, and what to do. Nothing invalid reaches the arithmetic (where it would turn into a NaN
// or an IndexOutOfRangeException far from its cause).
namespace Loom.Evaluation.Metrics;

internal static class Check
{
    /// <summary>np.allclose(1, row sum): |1 − s| ≤ atol + rtol·|s| with numpy's defaults.</summary>
    public const double RowSumAbsoluteTolerance = 1e-8, RowSumRelativeTolerance = 1e-5;

    public static void NotEmpty(int length, string name)
    {
        if (length == 0)
            throw new ArgumentException($"{name} is empty: a metric needs at least one sample.", name);
    }

    public static void SameLength(int a, string nameA, int b, string nameB)
    {
        if (a != b)
            throw new ArgumentException($"{nameA} has {a} elements but {nameB} has {b}: they must describe the same samples.", nameB);
    }

    /// <summary>A flattened (samples × columns) matrix: checks its length is samples·columns.</summary>
    public static void Matrix(int length, string name, int samples, string samplesName, int columns, string columnsName)
    {
        if (columns < 1)
            throw new ArgumentOutOfRangeException(columnsName, columns, $"{columnsName} must be at least 1.");
        if ((long)samples * columns != length)
            throw new ArgumentException(
                $"{name} has {length} values but {samplesName} has {samples} samples and {columnsName} is {columns}: " +
                $"expected {(long)samples * columns} (row-major, one row of {columns} per sample).", name);
    }

    public static void Finite(ReadOnlySpan<double> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"{name}[{i}] is {values[i]}: values must be finite numbers.", name);
    }

    public static void Probabilities(ReadOnlySpan<double> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] >= 0 && values[i] <= 1))
                throw new ArgumentException($"{name}[{i}] is {values[i]}: probabilities must lie in [0, 1].", name);
    }

    /// <summary>Each row of a (samples × columns) probability matrix sums to 1 within numpy's allclose tolerance.</summary>
    public static void RowsSumToOne(ReadOnlySpan<double> values, int columns, string name)
    {
        Probabilities(values, name);
        for (int row = 0; row * columns < values.Length; row++)
        {
            double sum = 0;
            foreach (double v in values.Slice(row * columns, columns)) sum += v;
            if (!(Math.Abs(1 - sum) <= RowSumAbsoluteTolerance + RowSumRelativeTolerance * Math.Abs(sum)))
                throw new ArgumentException(
                    $"row {row} of {name} sums to {sum:R}, not 1: pass probabilities (e.g. a softmax), not raw scores or logits.", name);
        }
    }

    public static void Binary01(ReadOnlySpan<int> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (values[i] is not (0 or 1))
                throw new ArgumentException($"{name}[{i}] is {values[i]}: a label indicator matrix holds only 0 and 1.", name);
    }
}
