// How a reliability diagram places its bin edges (scikit-learn's calibration_curve strategy).
namespace Loom.Evaluation.Calibration;

/// <summary>Bin edges of a reliability diagram (<c>calibration_curve(strategy=...)</c>).</summary>
public enum CalibrationStrategy
{
    /// <summary>Equal-width bins over [0, 1].</summary>
    Uniform,
    /// <summary>Edges at the quantiles of the predicted probabilities, so bins hold about as many samples each.</summary>
    Quantile,
}
