namespace Loom.Evaluation.Statistics;

/// <summary>A point estimate with its percentile-bootstrap interval at <see cref="Confidence"/>.</summary>
public sealed record BootstrapInterval(double Value, double Lower, double Upper, double Confidence, int Resamples, double StandardError);
