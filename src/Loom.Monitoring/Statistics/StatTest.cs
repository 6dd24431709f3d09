namespace Loom.Monitoring.Statistics;

/// <summary>The drift statistics; the CLI names are in <see cref="StatTests.Name"/>.</summary>
public enum StatTest
{
    /// <summary>Two-sample Kolmogorov–Smirnov (numeric; p-value).</summary>
    Ks,
    /// <summary>Chi-squared on categories (p-value).</summary>
    Chi2,
    /// <summary>Two-proportion z-test (binary; p-value).</summary>
    Z,
    /// <summary>Wasserstein-1 distance (numeric); drift is judged on it divided by the reference's standard deviation.</summary>
    Wasserstein,
    /// <summary>Population Stability Index over decile or category bins.</summary>
    Psi,
    /// <summary>KL(reference ‖ current) over the same bins.</summary>
    Kl,
    /// <summary>Jensen–Shannon divergence over the same bins.</summary>
    Js,
}
