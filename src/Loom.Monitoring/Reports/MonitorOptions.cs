using Loom.Monitoring.Statistics;
using Loom.Monitoring.Text;

namespace Loom.Monitoring.Reports;

/// <summary>How a drift report is computed. Every default is Evidently's where Evidently has one.</summary>
public sealed record MonitorOptions
{
    /// <summary>One test for every numeric/categorical feature (null: Evidently's default per column).</summary>
    public StatTest? Test { get; init; }
    /// <summary>Per-feature tests, by feature name (e.g. "text:chars" → ks); they win over <see cref="Test"/>.</summary>
    public IReadOnlyDictionary<string, StatTest> ColumnTests { get; init; } = new Dictionary<string, StatTest>();
    /// <summary>A threshold for every test (null: each test's default, see StatTests.DefaultThreshold).</summary>
    public double? Threshold { get; init; }
    /// <summary>The share of drifted features at which the whole dataset counts as drifted (Evidently: 0.5).</summary>
    public double DriftShare { get; init; } = 0.5;
    /// <summary>Prediction columns (null: by name — prediction, predicted, pred, output, completion, score, probability, completion_tokens, finish_reason).</summary>
    public IReadOnlyList<string>? PredictionColumns { get; init; }
    /// <summary>The ground-truth column (null: by name — label, target, ground_truth).</summary>
    public string? LabelColumn { get; init; }
    /// <summary>Columns never monitored, besides ids and times.</summary>
    public IReadOnlyList<string> IgnoreColumns { get; init; } = [];
    /// <summary>The vocabulary for OOV rates (null: learned from the reference, see Vocabulary.FromReference).</summary>
    public Vocabulary? Vocabulary { get; init; }
    /// <summary>Run embedding drift (domain classifier and MMD) on text columns.</summary>
    public bool EmbeddingDrift { get; init; } = true;
    /// <summary>Texts embedded per side (sampled with a fixed seed).</summary>
    public int MaxEmbeddedTexts { get; init; } = 1000;
    /// <summary>Windows for the time series when <see cref="Window"/> is null: the current rows in this many equal parts.</summary>
    public int Windows { get; init; } = 10;
    /// <summary>A fixed window length for the time series (needs times in the current data).</summary>
    public TimeSpan? Window { get; init; }
    /// <summary>Seed for every sample taken.</summary>
    public ulong Seed { get; init; } = 17;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (!(DriftShare > 0 && DriftShare <= 1)) throw new ArgumentException($"drift share {DriftShare}: must lie in (0, 1].");
        if (Windows < 1) throw new ArgumentException($"windows {Windows}: must be at least 1.");
        if (Window is { } w && w <= TimeSpan.Zero) throw new ArgumentException($"window {w}: must be positive.");
        if (MaxEmbeddedTexts < 10) throw new ArgumentException($"max embedded texts {MaxEmbeddedTexts}: must be at least 10.");
        if (Threshold is { } t && !(t > 0)) throw new ArgumentException($"threshold {t}: must be positive.");
    }
}
