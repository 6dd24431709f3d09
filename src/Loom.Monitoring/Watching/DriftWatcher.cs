// `loom monitor watch`: every `Every`, read the request log's rows of the last `Window` straight from SQLite
// (RequestLogReader), test them against the reference (DriftAnalyzer) and, when the dataset drifts or DDM signals
// concept drift, raise an alert: one JSON object written to the alerts JSONL file (appended and flushed), POSTed to
// the webhook, and passed to the on-drift command in LOOM_DRIFT_ALERT. A failing webhook or command is reported on
// the log writer and does not stop the watch (the next window is evaluated anyway); the alert file keeps every alert.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Monitoring.Data;
using Loom.Monitoring.Reports;
using Microsoft.Extensions.AI;

namespace Loom.Monitoring.Watching;

/// <summary>Evaluates request-log windows against a reference and raises alerts.</summary>
public sealed class DriftWatcher
{
    private readonly WatchOptions _options;
    private readonly Table _reference;
    private readonly IEmbeddingGenerator<string, Embedding<float>>? _embedder;
    private readonly TextWriter _status;
    private readonly TextWriter _log;
    private readonly HttpClient? _http;

    /// <summary>A watcher writing one status line per evaluation to <paramref name="status"/> and problems to <paramref name="log"/>.</summary>
    public DriftWatcher(WatchOptions options, Table reference, TextWriter status, TextWriter log,
        IEmbeddingGenerator<string, Embedding<float>>? embedder = null, HttpClient? http = null)
    {
        options.Validate();
        _options = options;
        _reference = reference;
        _embedder = embedder;
        _status = status;
        _log = log;
        _http = options.Webhook is null ? null : http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Evaluates the window ending at <paramref name="end"/>.</summary>
    public async Task<WindowEvaluation> EvaluateAsync(DateTimeOffset end, CancellationToken cancellationToken = default)
    {
        var start = end - (_options.Window ?? _options.Every);
        var current = RequestLogReader.Read(_options.LogDb, "--log-db", start, end);
        if (current.RowCount < _options.MinRows)
        {
            await Status(new { window_start = Iso(start), window_end = Iso(end), rows = current.RowCount, skipped = $"fewer than {_options.MinRows} rows (--min-rows)" }).ConfigureAwait(false);
            return new WindowEvaluation(start, end, current.RowCount, null, false);
        }
        var report = await DriftAnalyzer.AnalyzeAsync(_reference, current, _options.Monitor, _embedder, cancellationToken).ConfigureAwait(false);
        bool alert = report.DatasetDrift || report.Concept?.Drifted == true;
        if (_options.OutputDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            DurableFile.WriteAllText(Path.Combine(dir, "report.json"), DriftReportJson.Serialize(report));
            DurableFile.WriteAllText(Path.Combine(dir, "report.html"), DriftReportHtml.Render(report));
        }
        var summary = new
        {
            window_start = Iso(start), window_end = Iso(end), rows = current.RowCount, dataset_drift = report.DatasetDrift,
            drift_share = Math.Round(report.DriftShare, 6), drifted_features = report.DriftedFeatures, concept_drift = report.Concept?.Drifted ?? false, alert,
        };
        await Status(summary).ConfigureAwait(false);
        if (alert) await RaiseAsync(JsonSerializer.Serialize(new
        {
            type = "drift", time = Iso(DateTimeOffset.UtcNow), window_start = Iso(start), window_end = Iso(end), rows = current.RowCount,
            drift_share = Math.Round(report.DriftShare, 6), drift_share_threshold = report.DriftShareThreshold, dataset_drift = report.DatasetDrift,
            concept_drift = report.Concept?.Drifted ?? false, drifted_features = report.DriftedFeatures,
            features = report.Features.Where(f => f.Drifted).Select(f => new { name = f.Name, test = f.Test, statistic = Finite(f.Statistic), p_value = f.PValue is double p ? Finite(p) : null, score = Finite(f.Score), threshold = f.Threshold }),
        }), cancellationToken).ConfigureAwait(false);
        return new WindowEvaluation(start, end, current.RowCount, report, alert);
    }

    /// <summary>Evaluates now, then every <see cref="WatchOptions.Every"/> until cancelled (or once).</summary>
    public async Task RunAsync(bool once, Func<DateTimeOffset>? clock = null, CancellationToken cancellationToken = default)
    {
        clock ??= () => DateTimeOffset.UtcNow;
        while (true)
        {
            await EvaluateAsync(clock(), cancellationToken).ConfigureAwait(false);
            if (once) return;
            try { await Task.Delay(_options.Every, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task RaiseAsync(string json, CancellationToken ct)
    {
        if (_options.AlertsFile is { } file)
        {
            await using var f = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.Read);
            var bytes = Encoding.UTF8.GetBytes(json + "\n");
            await f.WriteAsync(bytes, ct).ConfigureAwait(false);
            f.Flush(flushToDisk: true);
        }
        if (_http != null && _options.Webhook != null)
        {
            try
            {
                using var content = new StringContent(json, Encoding.UTF8, "application/json");
                using var response = await _http.PostAsync(_options.Webhook, content, ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) await _log.WriteLineAsync($"warning: --webhook {_options.Webhook} answered {(int)response.StatusCode} {response.ReasonPhrase}; the alert is in the status output{(_options.AlertsFile is null ? "" : " and --alerts")}.").ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await _log.WriteLineAsync($"warning: --webhook {_options.Webhook} failed ({e.Message}); watching goes on.").ConfigureAwait(false);
            }
        }
        if (_options.OnDrift is { } command)
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command);
            psi.Environment["LOOM_DRIFT_ALERT"] = json;
            try
            {
                using var process = Process.Start(psi)!;
                await process.WaitForExitAsync(ct).ConfigureAwait(false);
                if (process.ExitCode != 0) await _log.WriteLineAsync($"warning: --on-drift command exited with {process.ExitCode}.").ConfigureAwait(false);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                await _log.WriteLineAsync($"warning: --on-drift could not start /bin/sh ({e.Message}).").ConfigureAwait(false);
            }
        }
    }

    private async Task Status(object line)
    {
        await _status.WriteLineAsync(JsonSerializer.Serialize(line)).ConfigureAwait(false);
        await _status.FlushAsync().ConfigureAwait(false);
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("O");
    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
