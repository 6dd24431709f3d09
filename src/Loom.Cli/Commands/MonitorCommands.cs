// `loom monitor stat|report|watch`: drift monitoring from the command line, thin over Loom.Monitoring.
//   stat    one statistic on one column of two files → {"statistic": x, "p_value": p} on stdout
//   report  reference vs current (files or the request log, optionally a time range) → report.json + report.html
//   watch   the request log every --every → a status line per window, alerts to a JSONL file / webhook / command
// `--model DIR` embeds texts with a Loom causal model (mean of the last hidden states, as /v1/embeddings); without
// it, a hashed bag of words. See docs/MONITORING.md.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Loom.Core.IO;
using Loom.Inference.Chat;
using Loom.Inference.Engine;
using Loom.Monitoring.Data;
using Loom.Monitoring.Reports;
using Loom.Monitoring.Statistics;
using Loom.Monitoring.Text;
using Loom.Monitoring.Watching;
using Microsoft.Extensions.AI;
using Spectre.Console;
using Table = Loom.Monitoring.Data.Table;

namespace Loom.Cli.Commands;

internal static class MonitorCommands
{
    public static Command CreateGroup(IAnsiConsole console)
    {
        var group = new Command("monitor", "Drift monitoring: statistics, reports and a watch over the server's request log.");
        group.Subcommands.Add(Stat());
        group.Subcommands.Add(Report(console));
        group.Subcommands.Add(Watch(console));
        return group;
    }

    private static Command Stat()
    {
        var test = new Option<string>("--test") { Description = "ks, chi2, z, psi, kl, js or wasserstein.", Required = true };
        var reference = new Option<FileInfo>("--reference") { Description = "JSONL, CSV or one number per line (optionally .gz).", Required = true };
        var current = new Option<FileInfo>("--current") { Description = "Same formats as --reference.", Required = true };
        var column = new Option<string?>("--column") { Description = "The column to test (needed when the files have more than one)." };
        var cmd = new Command("stat", "One drift statistic on one column: prints {\"statistic\": x, \"p_value\": p}.") { test, reference, current, column };
        cmd.SetAction(parse =>
        {
            var kind = StatTests.Parse(parse.GetValue(test)!);
            var r = ReadTable(parse.GetValue(reference)!, "--reference", null);
            var c = ReadTable(parse.GetValue(current)!, "--current", null);
            string name = parse.GetValue(column) ?? SingleColumn(r, "--reference");
            var rc = r.Find(name) ?? throw new ArgumentException($"--column {name}: --reference {r.Source} has no such column (it has {string.Join(", ", r.Columns.Select(x => x.Name))}).");
            var cc = c.Find(name) ?? throw new ArgumentException($"--column {name}: --current {c.Source} has no such column (it has {string.Join(", ", c.Columns.Select(x => x.Name))}).");
            bool numeric = rc.IsNumeric && cc.IsNumeric;
            if (!numeric && kind is StatTest.Ks or StatTest.Wasserstein)
                throw new ArgumentException($"--test {StatTests.Name(kind)} needs numbers, but column {name} holds text in {(rc.IsNumeric ? "--current" : "--reference")}; use chi2, z, psi, kl or js for categories.");
            var result = numeric ? StatTests.Run(kind, rc.Values(), cc.Values()) : StatTests.Run(kind, rc.Strings(), cc.Strings());
            var output = parse.InvocationConfiguration.Output;
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                Number(w, "statistic", result.Statistic);
                if (result.PValue is double p) Number(w, "p_value", p);
                if (result.Method != null) w.WriteString("method", result.Method);
                w.WriteEndObject();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return 0;
        });
        return cmd;
    }

    private sealed record CommonOptions(Option<string?> Test, Option<string[]> ColumnTest, Option<double?> Threshold, Option<double> DriftShare, Option<FileInfo?> Vocab,
        Option<string[]> Prediction, Option<string?> Label, Option<string[]> Ignore, Option<DirectoryInfo?> Model, Option<bool> NoEmbeddings, Option<string?> TimeColumn);

    private static CommonOptions Common() => new(
        new Option<string?>("--test") { Description = "One test for every feature (ks, chi2, z, psi, kl, js, wasserstein); default: Evidently's choice per column." },
        new Option<string[]>("--column-test") { Description = "FEATURE=TEST for one feature, e.g. text:chars=psi (repeatable).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] },
        new Option<double?>("--threshold") { Description = "One threshold for every test (default: each test's own: p < 0.05; PSI, KL, normed Wasserstein ≥ 0.1; JS ≥ 0.01)." },
        new Option<double>("--drift-share") { Description = "Share of drifted features at which the dataset drifts.", DefaultValueFactory = _ => 0.5 },
        new Option<FileInfo?>("--vocab") { Description = "Vocabulary for OOV rates: a word list, vocab.txt or tokenizer.json (default: learned from the reference)." },
        new Option<string[]>("--prediction") { Description = "Prediction columns (default: by name: prediction, output, score, …).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] },
        new Option<string?>("--label") { Description = "The ground-truth column (default: label or target)." },
        new Option<string[]>("--ignore") { Description = "Columns not to monitor.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] },
        new Option<DirectoryInfo?>("--model") { Description = "A Loom causal model directory whose embeddings drive embedding drift (default: hashed bag of words)." },
        new Option<bool>("--no-embeddings") { Description = "Skip embedding drift (domain classifier and MMD)." },
        new Option<string?>("--time-column") { Description = "The column holding each row's time (default: time, timestamp or created_at)." });

    private static void AddCommon(Command cmd, CommonOptions o)
    {
        foreach (var opt in new Option[] { o.Test, o.ColumnTest, o.Threshold, o.DriftShare, o.Vocab, o.Prediction, o.Label, o.Ignore, o.Model, o.NoEmbeddings, o.TimeColumn }) cmd.Options.Add(opt);
    }

    private static MonitorOptions BuildOptions(ParseResult parse, CommonOptions o, int windows, TimeSpan? window)
    {
        var tests = new Dictionary<string, StatTest>(StringComparer.Ordinal);
        foreach (var spec in parse.GetValue(o.ColumnTest)!)
        {
            int eq = spec.LastIndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1) throw new ArgumentException($"--column-test {spec}: write FEATURE=TEST, e.g. text:chars=psi.");
            tests[spec[..eq]] = StatTests.Parse(spec[(eq + 1)..], "--column-test");
        }
        double share = parse.GetValue(o.DriftShare);
        if (!(share > 0 && share <= 1)) throw new ArgumentException($"--drift-share {share}: must lie in (0, 1].");
        double? threshold = parse.GetValue(o.Threshold);
        if (threshold is { } t && !(t > 0)) throw new ArgumentException($"--threshold {t}: must be positive.");
        var predictions = parse.GetValue(o.Prediction)!;
        var options = new MonitorOptions
        {
            Test = parse.GetValue(o.Test) is { } name ? StatTests.Parse(name) : null,
            ColumnTests = tests,
            Threshold = threshold,
            DriftShare = share,
            Vocabulary = parse.GetValue(o.Vocab) is { } v ? Vocabulary.Load(v.FullName) : null,
            PredictionColumns = predictions.Length > 0 ? predictions : null,
            LabelColumn = parse.GetValue(o.Label),
            IgnoreColumns = parse.GetValue(o.Ignore)!,
            EmbeddingDrift = !parse.GetValue(o.NoEmbeddings),
            Windows = windows,
            Window = window,
        };
        options.Validate();
        return options;
    }

    // The embedder for --model, and the engine that owns the model (dispose it after use).
    private static (IEmbeddingGenerator<string, Embedding<float>>? Embedder, IDisposable? Owner) Embedder(ParseResult parse, CommonOptions o)
    {
        if (parse.GetValue(o.Model) is not { } dir) return (null, null);
        if (!dir.Exists) throw new DirectoryNotFoundException($"--model {dir.FullName} does not exist.");
        var engine = InferenceEngine.Load(dir.FullName);
        try { return (new ContextCutEmbedder(engine, new LoomEmbeddingGenerator(engine, dir.Name)), engine); }
        catch (NotSupportedException e) { engine.Dispose(); throw new ArgumentException($"--model {dir.FullName}: {e.Message}"); }
    }

    private static Command Report(IAnsiConsole console)
    {
        var reference = new Option<FileInfo>("--reference") { Description = "Reference data: JSONL, CSV, numbers, or a request-log database.", Required = true };
        var current = new Option<FileInfo>("--current") { Description = "Current data: same formats; a request log may be cut with --since/--until.", Required = true };
        var output = new Option<string>("--output") { Description = "Folder for report.json and report.html.", DefaultValueFactory = _ => "runs/monitor" };
        var since = new Option<string?>("--since") { Description = "Only current rows at or after this time (ISO 8601)." };
        var until = new Option<string?>("--until") { Description = "Only current rows before this time (ISO 8601)." };
        var window = new Option<string?>("--window") { Description = "Time-series window length (e.g. 10m, 1h, 1d); default: --windows equal parts." };
        var windows = new Option<int>("--windows") { Description = "Time-series windows when --window is not given.", DefaultValueFactory = _ => 10 };
        var common = Common();
        var cmd = new Command("report", "Reference vs current: per-feature drift tests, report.json and a self-contained report.html.") { reference, current, output, since, until, window, windows };
        AddCommon(cmd, common);
        cmd.SetAction(parse =>
        {
            string timeColumn = parse.GetValue(common.TimeColumn)!;
            var options = BuildOptions(parse, common, parse.GetValue(windows), parse.GetValue(window) is { } w ? ParseDuration(w, "--window") : null);
            DateTimeOffset? from = parse.GetValue(since) is { } s ? ParseTime(s, "--since") : null;
            DateTimeOffset? to = parse.GetValue(until) is { } u ? ParseTime(u, "--until") : null;
            var r = ReadTable(parse.GetValue(reference)!, "--reference", timeColumn);
            var c = ReadTable(parse.GetValue(current)!, "--current", timeColumn);
            if (from != null || to != null) c = c.Slice(from ?? DateTimeOffset.MinValue, to ?? DateTimeOffset.MaxValue);
            string dir = Path.GetFullPath(parse.GetValue(output)!);
            if (File.Exists(dir)) throw new ArgumentException($"--output {dir} is a file; give a folder for report.json and report.html.");
            var (embedder, owner) = Embedder(parse, common);
            DriftReport? report = null;
            try
            {
                console.Status().Start($"testing {c.RowCount:N0} current rows against {r.RowCount:N0} reference rows", _ =>
                    report = DriftAnalyzer.AnalyzeAsync(r, c, options, embedder).GetAwaiter().GetResult());
            }
            finally { owner?.Dispose(); }
            Directory.CreateDirectory(dir);
            DurableFile.WriteAllText(Path.Combine(dir, "report.json"), DriftReportJson.Serialize(report!));
            DurableFile.WriteAllText(Path.Combine(dir, "report.html"), DriftReportHtml.Render(report!));
            console.MarkupLine(report!.DatasetDrift
                ? $"[red]dataset drift[/]: {report.DriftedFeatures.Count} of {report.Features.Count} features drifted ({Markup.Escape(string.Join(", ", report.DriftedFeatures))})"
                : $"[green]no dataset drift[/]: {report.DriftedFeatures.Count} of {report.Features.Count} features drifted{(report.DriftedFeatures.Count > 0 ? " (" + Markup.Escape(string.Join(", ", report.DriftedFeatures)) + ")" : "")}");
            console.MarkupLine($"report: {Markup.Escape(Path.Combine(dir, "report.html"))}");
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
            {
                dataset_drift = report.DatasetDrift, drift_share = Math.Round(report.DriftShare, 6), drifted_features = report.DriftedFeatures,
                concept_drift = report.Concept?.Drifted, report = Path.Combine(dir, "report.json"),
            }));
            return 0;
        });
        return cmd;
    }

    private static Command Watch(IAnsiConsole console)
    {
        var logDb = new Option<FileInfo>("--log-db") { Description = "The server's request log (`loom serve --log-db PATH --log-content`).", Required = true };
        var reference = new Option<FileInfo>("--reference") { Description = "Reference data: JSONL (a \"text\" or \"prompt\" field), CSV, or another request log.", Required = true };
        var every = new Option<string>("--every") { Description = "Time between evaluations (e.g. 30s, 10m, 1h).", DefaultValueFactory = _ => "10m" };
        var window = new Option<string?>("--window") { Description = "How far back each evaluation looks (default: --every)." };
        var minRows = new Option<int>("--min-rows") { Description = "Skip windows with fewer successful requests.", DefaultValueFactory = _ => 30 };
        var alerts = new Option<FileInfo?>("--alerts") { Description = "Append each alert as a JSON line to this file." };
        var webhook = new Option<string?>("--webhook") { Description = "POST each alert as JSON to this http(s) URL." };
        var onDrift = new Option<string?>("--on-drift") { Description = "Run this shell command after an alert (LOOM_DRIFT_ALERT holds the alert JSON), e.g. a retraining job." };
        var once = new Option<bool>("--once") { Description = "Evaluate one window (ending now, or at --until) and exit." };
        var until = new Option<string?>("--until") { Description = "With --once: the window's end instead of now (ISO 8601), to replay a past window." };
        var output = new Option<string?>("--output") { Description = "Folder where each evaluation writes report.json and report.html." };
        var common = Common();
        var cmd = new Command("watch", "Evaluate windows of the request log against a reference and raise alerts when drift crosses the thresholds.") { logDb, reference, every, window, minRows, alerts, webhook, onDrift, once, until, output };
        AddCommon(cmd, common);
        cmd.SetAction(parse =>
        {
            var db = parse.GetValue(logDb)!;
            InputFiles.RequireFile(db.FullName, "--log-db");
            if (!RequestLogReader.IsSqlite(db.FullName)) throw new ArgumentException($"--log-db {db.FullName} is not a SQLite database; `loom serve --log-db PATH` writes one.");
            bool single = parse.GetValue(once);
            string? untilText = parse.GetValue(until);
            if (untilText != null && !single) throw new ArgumentException("--until replays one past window; use it with --once.");
            Uri? hook = null;
            if (parse.GetValue(webhook) is { } h && (!Uri.TryCreate(h, UriKind.Absolute, out hook) || hook.Scheme is not ("http" or "https")))
                throw new ArgumentException($"--webhook {h}: not an http:// or https:// URL.");
            var options = new WatchOptions
            {
                LogDb = db.FullName,
                Every = ParseDuration(parse.GetValue(every)!, "--every"),
                Window = parse.GetValue(window) is { } w ? ParseDuration(w, "--window") : null,
                MinRows = parse.GetValue(minRows),
                AlertsFile = parse.GetValue(alerts)?.FullName,
                Webhook = hook,
                OnDrift = parse.GetValue(onDrift),
                OutputDirectory = parse.GetValue(output) is { } o ? Path.GetFullPath(o) : null,
                Monitor = BuildOptions(parse, common, 1, null),
            };
            options.Validate();
            if (options.AlertsFile is { } a && Path.GetDirectoryName(a) is { } ad && !Directory.Exists(ad))
                throw new DirectoryNotFoundException($"--alerts {a}: the folder {ad} does not exist.");
            var r = ReadTable(parse.GetValue(reference)!, "--reference", parse.GetValue(common.TimeColumn));
            var (embedder, owner) = Embedder(parse, common);
            try
            {
                var watcher = new DriftWatcher(options, r, parse.InvocationConfiguration.Output, new ConsoleLineWriter(console), embedder);
                DateTimeOffset end = untilText is null ? DateTimeOffset.UtcNow : ParseTime(untilText, "--until");
                using var stop = new CancellationTokenSource();
                ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
                Console.CancelKeyPress += onCancel;
                try { watcher.RunAsync(single, single ? () => end : null, stop.Token).GetAwaiter().GetResult(); }
                finally { Console.CancelKeyPress -= onCancel; }
            }
            finally { owner?.Dispose(); }
            return 0;
        });
        return cmd;
    }

    // Texts longer than the model's context keep their first ContextLength tokens (decoded back to text), so a long
    // review or prompt is embedded by its head instead of failing the report.
    private sealed class ContextCutEmbedder(InferenceEngine engine, IEmbeddingGenerator<string, Embedding<float>> inner)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            base.GenerateAsync(values.Select(Cut).ToList(), options, cancellationToken);

        private string Cut(string text)
        {
            var ids = engine.Tokenizer.Encode(text, Loom.Tokenizers.SpecialTokenPolicy.PlainText);
            if (ids.Length == 0) return " ";
            return ids.Length <= engine.ContextLength ? text : engine.Tokenizer.Decode(ids.AsSpan(0, engine.ContextLength));
        }
    }

    // Warnings from the watcher go to the console (stderr), one line each.
    private sealed class ConsoleLineWriter(IAnsiConsole console) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value) => console.MarkupLine($"[yellow]{Markup.Escape(value ?? "")}[/]");
        public override Task WriteLineAsync(string? value) { WriteLine(value); return Task.CompletedTask; }
    }

    private static Table ReadTable(FileInfo file, string option, string? timeColumn)
    {
        InputFiles.RequireFile(file.FullName, option);
        return TableReader.Read(file.FullName, option, timeColumn);
    }

    private static string SingleColumn(Table t, string option) => t.Columns.Count == 1 ? t.Columns[0].Name
        : throw new ArgumentException($"{option} {t.Source} has {t.Columns.Count} columns ({string.Join(", ", t.Columns.Select(c => c.Name))}); name one with --column.");

    /// <summary>Parses 30s, 10m, 2h, 1d (or a TimeSpan like 00:10:00).</summary>
    internal static TimeSpan ParseDuration(string text, string option)
    {
        string s = text.Trim();
        if (s.Length >= 2 && double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0)
        {
            switch (char.ToLowerInvariant(s[^1]))
            {
                case 's': return TimeSpan.FromSeconds(v);
                case 'm': return TimeSpan.FromMinutes(v);
                case 'h': return TimeSpan.FromHours(v);
                case 'd': return TimeSpan.FromDays(v);
            }
        }
        if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero) return span;
        throw new ArgumentException($"{option} {text}: not a duration; write e.g. 30s, 10m, 2h or 1d.");
    }

    private static DateTimeOffset ParseTime(string text, string option) => TableReader.ParseTime(text)
        ?? throw new ArgumentException($"{option} {text}: not a time; write ISO 8601, e.g. 2026-01-31T12:00:00Z.");

    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteString(name, double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }
}
