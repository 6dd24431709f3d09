// The `monitor` suite: issue 17's planted drift case on real data, which the tests may not read (IMDB has no
// licence for redistribution). Reference: the 25,000 IMDB train reviews (../shared/data/imdb/train.jsonl.gz).
// Current windows, each tested with Loom.Monitoring's default report (Evidently's per-column tests, text features,
// token JS, domain-classifier AUC on hashed bag-of-words embeddings):
//   imdb-test-2000     2,000 IMDB test reviews (seeded sample)                      → expect no dataset drift
//   imdb-test-all      all 25,000 IMDB test reviews                                  → expect no dataset drift
//   imdb+sms-50%       1,000 IMDB test reviews + 1,000 SMS messages (SMS Spam Collection, ../shared/data/sms_spam)
//   imdb+sms-20%       1,600 IMDB test reviews + 400 SMS messages                    → expect drift, features named
// Rows: drift share, dataset drift (1/0), drifted-feature count and seconds per case; the drifted features are
// printed and recorded in docs/MONITORING.md.
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Loom.Monitoring.Data;
using Loom.Monitoring.Reports;

namespace Loom.Bench.Suites;

internal static class MonitorSuite
{
    public static void Run(BenchContext ctx)
    {
        string shared = Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data");
        string imdb = Path.Combine(shared, "imdb"), sms = Path.Combine(shared, "sms_spam", "SMSSpamCollection");
        if (!File.Exists(Path.Combine(imdb, "train.jsonl.gz")) || !File.Exists(sms))
        {
            Console.WriteLine($"skipped: needs {imdb}/train.jsonl.gz, test.jsonl.gz and {sms}.");
            return;
        }
        var train = ReadImdb(Path.Combine(imdb, "train.jsonl.gz"));
        var test = ReadImdb(Path.Combine(imdb, "test.jsonl.gz"));
        var messages = File.ReadLines(sms).Select(l => l.Split('\t', 2)).Where(p => p.Length == 2).Select(p => p[1]).ToList();
        var rng = new Random(17);
        var testOrder = Enumerable.Range(0, test.Count).ToArray();
        rng.Shuffle(testOrder);
        var smsOrder = Enumerable.Range(0, messages.Count).ToArray();
        rng.Shuffle(smsOrder);
        var reference = Texts("imdb-train", train);
        var cases = new List<(string Name, List<string> Texts)>
        {
            ("imdb-test-2000", testOrder.Take(2000).Select(i => test[i]).ToList()),
            ("imdb-test-all", test),
            ("imdb+sms-50%", Mix(testOrder.Take(1000).Select(i => test[i]), smsOrder.Take(1000).Select(i => messages[i]))),
            ("imdb+sms-20%", Mix(testOrder.Take(1600).Select(i => test[i]), smsOrder.Take(400).Select(i => messages[i]))),
        };
        foreach (var (name, texts) in cases)
        {
            if (ctx.Filter != null && !name.Contains(ctx.Filter, StringComparison.OrdinalIgnoreCase)) continue;
            var sw = Stopwatch.StartNew();
            var report = DriftAnalyzer.AnalyzeAsync(reference, Texts(name, texts)).GetAwaiter().GetResult();
            double seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"{name}: {texts.Count} texts, dataset drift {report.DatasetDrift}, share {report.DriftShare:F3}, drifted: {string.Join(", ", report.DriftedFeatures)} ({seconds:F1} s)");
            foreach (var f in report.Features)
                Console.WriteLine($"    {f.Name,-16} {f.Test,-18} statistic {f.Statistic,10:G4}  p {(f.PValue is double p ? p.ToString("G3") : "-"),9}  score {f.Score,9:G4}  threshold {f.Threshold:G3}  {(f.Drifted ? "DRIFT" : "")}");
            ctx.Rows.Add(new BenchRow(name, "drift_share", report.DriftShare, "share"));
            ctx.Rows.Add(new BenchRow(name, "dataset_drift", report.DatasetDrift ? 1 : 0, "bool"));
            ctx.Rows.Add(new BenchRow(name, "drifted_features", report.DriftedFeatures.Count, "features"));
            ctx.Rows.Add(new BenchRow(name, "report_time", seconds, "s"));
        }
    }

    private static List<string> ReadImdb(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var texts = new List<string>();
        string? line;
        while ((line = reader.ReadLine()) != null)
            if (line.Length > 0) texts.Add(JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!);
        return texts;
    }

    // Interleaved so that the time series sees the mix in every window.
    private static List<string> Mix(IEnumerable<string> a, IEnumerable<string> b)
    {
        var x = a.ToList();
        var y = b.ToList();
        var mixed = new List<string>(x.Count + y.Count);
        for (int i = 0, j = 0; i < x.Count || j < y.Count;)
        {
            if (i < x.Count && (j >= y.Count || (long)i * y.Count <= (long)j * x.Count)) mixed.Add(x[i++]);
            else mixed.Add(y[j++]);
        }
        return mixed;
    }

    private static Table Texts(string source, List<string> texts) =>
        new(source, [new Column("text", texts.ToArray<string?>(), new double?[texts.Count])], texts.Count);
}
