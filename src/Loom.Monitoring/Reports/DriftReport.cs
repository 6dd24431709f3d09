namespace Loom.Monitoring.Reports;

/// <summary>A drift report: every feature's test, the dataset verdict, concept drift and the time series.</summary>
/// <param name="Reference">The reference source.</param>
/// <param name="Current">The current source.</param>
/// <param name="ReferenceRows">Reference rows.</param>
/// <param name="CurrentRows">Current rows.</param>
/// <param name="Features">Per-feature results, inputs first.</param>
/// <param name="DriftShare">Drifted features / features.</param>
/// <param name="DriftShareThreshold">The share at which the dataset counts as drifted.</param>
/// <param name="DatasetDrift">DriftShare ≥ DriftShareThreshold.</param>
/// <param name="Concept">Concept drift, when a prediction and a label column exist.</param>
/// <param name="TimeSeries">Windows of the current data.</param>
/// <param name="Embedder">The embeddings used for embedding drift.</param>
/// <param name="Vocabulary">Where the OOV vocabulary came from.</param>
public sealed record DriftReport(string Reference, string Current, int ReferenceRows, int CurrentRows, IReadOnlyList<FeatureDrift> Features,
    double DriftShare, double DriftShareThreshold, bool DatasetDrift, ConceptDriftResult? Concept, IReadOnlyList<WindowPoint> TimeSeries,
    string? Embedder, string? Vocabulary)
{
    /// <summary>The drifted features' names.</summary>
    public IReadOnlyList<string> DriftedFeatures => Features.Where(f => f.Drifted).Select(f => f.Name).ToList();
}
