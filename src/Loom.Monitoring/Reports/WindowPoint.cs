namespace Loom.Monitoring.Reports;

/// <summary>One point of the report's time series: a window of current rows tested against the reference.</summary>
/// <param name="Index">The window's position.</param>
/// <param name="Start">The window's first time, or null without times.</param>
/// <param name="End">The window's end (exclusive), or null.</param>
/// <param name="Rows">Rows in the window.</param>
/// <param name="DriftShare">The share of per-row features that drifted in it.</param>
/// <param name="DriftedFeatures">The names of those features.</param>
/// <param name="Accuracy">prediction = label share, when both columns exist.</param>
public sealed record WindowPoint(int Index, DateTimeOffset? Start, DateTimeOffset? End, int Rows, double DriftShare, IReadOnlyList<string> DriftedFeatures, double? Accuracy);
