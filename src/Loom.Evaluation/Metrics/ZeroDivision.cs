// What a precision, recall or F-score is when its denominator is zero (no predicted samples of a
// class, no true samples, or neither), as scikit-learn's zero_division argument.
namespace Loom.Evaluation.Metrics;

/// <summary>The value of an ill-defined precision, recall or F-score (scikit-learn's <c>zero_division</c>).</summary>
public enum ZeroDivision
{
    /// <summary>sklearn's default "warn": the value is 0 (Loom prints nothing; the classification report lists the ill-defined classes).</summary>
    Warn,
    /// <summary>0.</summary>
    Zero,
    /// <summary>1.</summary>
    One,
    /// <summary>NaN, and averages skip NaN entries (scikit-learn ≥ 1.3's <c>zero_division=np.nan</c>).</summary>
    NaN,
}
