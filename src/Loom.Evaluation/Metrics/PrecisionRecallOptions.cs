// The settings of precision, recall and F-scores, with scikit-learn's defaults.
namespace Loom.Evaluation.Metrics;

/// <summary>Settings of precision, recall and F-beta; the defaults are scikit-learn's <c>precision_score</c> defaults.</summary>
public sealed record PrecisionRecallOptions
{
    /// <summary>How per-class scores are combined. Default <see cref="Average.Binary"/>, as scikit-learn.</summary>
    public Average Average { get; init; } = Average.Binary;

    /// <summary>The positive class when <see cref="Average"/> is <see cref="Average.Binary"/>. Default 1.</summary>
    public int PositiveLabel { get; init; } = 1;

    /// <summary>The value of an ill-defined score. Default <see cref="ZeroDivision.Warn"/> (0).</summary>
    public ZeroDivision ZeroDivision { get; init; } = ZeroDivision.Warn;

    /// <summary>The label set, in order; null infers the sorted labels present in the data. Every value must belong to it.</summary>
    public IReadOnlyList<int>? Labels { get; init; }

    /// <summary>The defaults.</summary>
    public static PrecisionRecallOptions Default { get; } = new();
}
