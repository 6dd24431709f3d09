using Loom.Monitoring.Reports;

namespace Loom.Monitoring.Watching;

/// <summary>What `loom monitor watch` watches and where its alerts go.</summary>
public sealed record WatchOptions
{
    /// <summary>The server's SQLite request log (`loom serve --log-db PATH --log-content`).</summary>
    public required string LogDb { get; init; }
    /// <summary>Time between evaluations (default 10 minutes).</summary>
    public TimeSpan Every { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>The window each evaluation looks back over (null: <see cref="Every"/>).</summary>
    public TimeSpan? Window { get; init; }
    /// <summary>Windows with fewer rows are skipped (no verdict on too little data).</summary>
    public int MinRows { get; init; } = 30;
    /// <summary>A JSONL file each alert is appended to (null: none).</summary>
    public string? AlertsFile { get; init; }
    /// <summary>A URL each alert is POSTed to as JSON (null: none).</summary>
    public Uri? Webhook { get; init; }
    /// <summary>A shell command run after an alert (e.g. a retraining job), with LOOM_DRIFT_ALERT set to the alert's JSON.</summary>
    public string? OnDrift { get; init; }
    /// <summary>A folder where each evaluation's report.json and report.html are written (null: none).</summary>
    public string? OutputDirectory { get; init; }
    /// <summary>How each window is tested.</summary>
    public MonitorOptions Monitor { get; init; } = new() { Windows = 1 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range (CLI names).</summary>
    public void Validate()
    {
        if (Every <= TimeSpan.Zero) throw new ArgumentException($"--every {Every}: must be positive, e.g. 10m.");
        if (Window is { } w && w <= TimeSpan.Zero) throw new ArgumentException($"--window {w}: must be positive, e.g. 1h.");
        if (MinRows < 1) throw new ArgumentException($"--min-rows {MinRows}: must be at least 1.");
        if (Webhook is { } u && u.Scheme is not ("http" or "https")) throw new ArgumentException($"--webhook {u}: must be an http:// or https:// URL.");
        Monitor.Validate();
    }
}
