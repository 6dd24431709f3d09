namespace Loom.Monitoring.Statistics;

/// <summary>A statistic and, for tests that have one, its p-value (null for distances and divergences).</summary>
/// <param name="Statistic">The statistic.</param>
/// <param name="PValue">The p-value, or null.</param>
/// <param name="Method">For the KS test, the mode actually used ("exact" or "asymp"); otherwise null.</param>
public readonly record struct TestResult(double Statistic, double? PValue, string? Method = null);
