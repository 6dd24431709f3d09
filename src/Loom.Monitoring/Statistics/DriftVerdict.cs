namespace Loom.Monitoring.Statistics;

/// <summary>One column's drift test: the statistic, its p-value where the test has one, the score compared
/// with the threshold (the p-value for tests, else the statistic — normalised for Wasserstein) and the verdict.</summary>
public sealed record DriftVerdict(StatTest Test, double Statistic, double? PValue, double Score, double Threshold, bool Drifted, string? Method = null);
