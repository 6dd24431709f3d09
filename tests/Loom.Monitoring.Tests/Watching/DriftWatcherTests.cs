// The watch loop on a request log written by the server's RequestLog: a window of SMS prompts against a
// Shakespeare reference raises one alert — appended to the alerts file, POSTed to a loopback webhook receiver, and
// handed to the on-drift command — while a window of Shakespeare prompts raises none.
using System.Net;
using System.Text.Json;
using Loom.Monitoring.Data;
using Loom.Monitoring.Reports;
using Loom.Monitoring.Watching;

namespace Loom.Monitoring.Tests.Watching;

public sealed class DriftWatcherTests
{
    [Fact]
    public async Task A_drifting_window_alerts_through_file_webhook_and_command_and_a_quiet_one_does_not()
    {
        string dir = RequestLogs.TempDir();
        var (reference, same, mixed) = PlantedCase.Build();
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        // 12:00–12:10 Shakespeare prompts, 12:10–12:20 the half-SMS window; a rejected request in each is skipped.
        var rows = new List<(DateTimeOffset, string, string, int)>();
        for (int i = 0; i < 300; i++) rows.Add((t0.AddSeconds(i * 2), same.Columns[0].Cells[i]!, "ok", 200));
        for (int i = 0; i < 300; i++) rows.Add((t0.AddMinutes(10).AddSeconds(i * 2), mixed.Columns[0].Cells[i]!, "ok", 200));
        rows.Add((t0.AddMinutes(5), "rejected", "", 429));
        string db = await RequestLogs.WriteAsync(dir, rows);

        Assert.Equal(300, RequestLogReader.Read(db, from: t0, to: t0.AddMinutes(10)).RowCount);

        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        var received = new List<string>();
        var receiver = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); } catch (Exception) { return; }
                using (var reader = new StreamReader(ctx.Request.InputStream)) lock (received) received.Add(reader.ReadToEnd());
                ctx.Response.StatusCode = 204;
                ctx.Response.Close();
            }
        });

        string alerts = Path.Combine(dir, "alerts.jsonl"), marker = Path.Combine(dir, "on-drift.json");
        var options = new WatchOptions
        {
            LogDb = db, Every = TimeSpan.FromMinutes(10), AlertsFile = alerts, Webhook = new Uri($"http://127.0.0.1:{port}/hook/"),
            OnDrift = $"printf '%s' \"$LOOM_DRIFT_ALERT\" > '{marker}'", OutputDirectory = Path.Combine(dir, "out"),
            Monitor = new MonitorOptions { Windows = 1 },
        };
        var status = new StringWriter();
        var log = new StringWriter();
        var referenceTable = new Table("reference", reference.Columns, reference.RowCount);
        var watcher = new DriftWatcher(options, referenceTable, status, log);

        var quiet = await watcher.EvaluateAsync(t0.AddMinutes(10));
        Assert.Equal(300, quiet.Rows);
        Assert.False(quiet.Alerted, string.Join(", ", quiet.Report!.DriftedFeatures));
        Assert.False(File.Exists(alerts));

        await watcher.RunAsync(once: true, clock: () => t0.AddMinutes(20));
        listener.Stop();
        await receiver;

        var alertLines = File.ReadAllLines(alerts);
        var alert = JsonDocument.Parse(Assert.Single(alertLines)).RootElement;
        Assert.True(alert.GetProperty("dataset_drift").GetBoolean());
        var drifted = alert.GetProperty("drifted_features").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("text:embedding", drifted);              // the log's "prompt" matched the reference's "text"
        Assert.Equal(alertLines[0], Assert.Single(received));
        Assert.Equal(alertLines[0], File.ReadAllText(marker));
        Assert.True(File.Exists(Path.Combine(dir, "out", "report.html")));
        var statusLines = status.ToString().Trim().Split('\n');
        Assert.Equal(2, statusLines.Length);
        Assert.True(JsonDocument.Parse(statusLines[1]).RootElement.GetProperty("alert").GetBoolean());
        Assert.Equal("", log.ToString());
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task A_window_with_too_few_rows_is_skipped_without_an_alert()
    {
        string dir = RequestLogs.TempDir();
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        string db = await RequestLogs.WriteAsync(dir, [(t0, "hello there", "hi", 200)]);
        var status = new StringWriter();
        var watcher = new DriftWatcher(new WatchOptions { LogDb = db, AlertsFile = Path.Combine(dir, "a.jsonl") },
            PlantedCase.TextTable("ref", ["a b c d e", "f g h i j"]), status, TextWriter.Null);
        var e = await watcher.EvaluateAsync(t0.AddMinutes(1));
        Assert.Null(e.Report);
        Assert.Contains("fewer than 30 rows", status.ToString());
        Assert.False(File.Exists(Path.Combine(dir, "a.jsonl")));
        Directory.Delete(dir, true);
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
