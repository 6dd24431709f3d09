using Loom.Monitoring.Data;

namespace Loom.Monitoring.Reports;

/// <summary>One feature's drift: a column, or a feature derived from a text column ("text:chars", "text:embedding").</summary>
/// <param name="Name">The feature name.</param>
/// <param name="Column">The source column.</param>
/// <param name="Role">Input (data drift), prediction (prediction drift) or label (label drift).</param>
/// <param name="Kind">Numerical or categorical; Text for the text-level tests (tokens, embedding).</param>
/// <param name="Test">The test's name: ks, chi2, z, wasserstein, psi, kl, js, token_js, domain_classifier.</param>
/// <param name="Statistic">The statistic.</param>
/// <param name="PValue">The p-value, where the test has one.</param>
/// <param name="Score">What is compared with the threshold (the p-value, the normed distance, the ratio to baseline, the AUC).</param>
/// <param name="Threshold">The threshold.</param>
/// <param name="Drifted">The verdict.</param>
/// <param name="ReferenceCount">Reference values tested.</param>
/// <param name="CurrentCount">Current values tested.</param>
/// <param name="Bins">Reference and current proportions for the plot (deciles or categories), or null.</param>
/// <param name="Detail">A line of extra facts (e.g. rising words, the embedder used).</param>
public sealed record FeatureDrift(string Name, string Column, ColumnRole Role, ColumnKind Kind, string Test, double Statistic, double? PValue,
    double Score, double Threshold, bool Drifted, int ReferenceCount, int CurrentCount, Statistics.Histogram? Bins, string? Detail = null);
