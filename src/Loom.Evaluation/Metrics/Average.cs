// How per-class scores are combined into one number, as scikit-learn's average argument.
namespace Loom.Evaluation.Metrics;

/// <summary>How per-class (or per-label) scores become one score (scikit-learn's <c>average</c>).</summary>
public enum Average
{
    /// <summary>Only the positive class (<see cref="PrecisionRecallOptions.PositiveLabel"/>); the data must have at most two labels.</summary>
    Binary,
    /// <summary>Global counts of true positives, false positives and false negatives.</summary>
    Micro,
    /// <summary>Unweighted mean over classes.</summary>
    Macro,
    /// <summary>Mean over classes weighted by support (number of true samples).</summary>
    Weighted,
    /// <summary>Mean over samples of the per-sample score (multi-label only).</summary>
    Samples,
}
