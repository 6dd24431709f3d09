// The IMDB sentiment suite (issue 12 §4): test accuracy of the classic TF-IDF + logistic-regression
// baseline, the anchor a fine-tuned Loom transformer is compared with. Reads ../shared/data/imdb
// (train.jsonl.gz, test.jsonl.gz); skipped when the folder is absent.
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Loom.Bench.Anchors;

namespace Loom.Bench.Suites;

internal static class FinetuneSuite
{
    public static void Run(BenchContext ctx)
    {
        string dir = Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data", "imdb");
        if (!File.Exists(Path.Combine(dir, "train.jsonl.gz")) || !File.Exists(Path.Combine(dir, "test.jsonl.gz")))
        {
            Console.WriteLine($"skipped: {dir} holds no IMDB files (the suite reads ../shared/data/imdb/{{train,test}}.jsonl.gz).");
            return;
        }
        var train = Read(Path.Combine(dir, "train.jsonl.gz"));
        var test = Read(Path.Combine(dir, "test.jsonl.gz"));
        if (ctx.Selected("imdb-tfidf-logreg")) Baseline(ctx, train, test);
    }

    private static void Baseline(BenchContext ctx, List<(string Text, int Label)> train, List<(string Text, int Label)> test)
    {
        var clock = Stopwatch.StartNew();
        // C from a seeded 20% hold-out of train, then refit on all of train (the test set is touched once).
        var rng = new Random(1234);
        var order = Enumerable.Range(0, train.Count).OrderBy(_ => rng.Next()).ToArray();
        int cut = train.Count * 4 / 5;
        var fit = order[..cut].Select(i => train[i]).ToList();
        var hold = order[cut..].Select(i => train[i]).ToList();
        double bestC = 0, bestAccuracy = -1;
        foreach (double c in new[] { 1.0, 4.0, 16.0, 64.0 })
        {
            var m = new TfidfLogisticRegression();
            m.Fit(fit.Select(e => e.Text).ToList(), fit.Select(e => e.Label).ToList(), c);
            double acc = Accuracy(m, hold);
            Console.WriteLine($"  tfidf-logreg C={c}: hold-out accuracy {acc:P2} ({m.FeatureCount:N0} features)");
            if (acc > bestAccuracy) { bestAccuracy = acc; bestC = c; }
        }
        var model = new TfidfLogisticRegression();
        model.Fit(train.Select(e => e.Text).ToList(), train.Select(e => e.Label).ToList(), bestC);
        double testAccuracy = Accuracy(model, test);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{"imdb-tfidf-logreg",-28} test accuracy {testAccuracy:P2} (C={bestC}, {model.FeatureCount:N0} features, {seconds:F0} s incl. C search)");
        ctx.Rows.Add(new BenchRow("imdb-tfidf-logreg", "test_accuracy", testAccuracy, "fraction"));
        ctx.Rows.Add(new BenchRow("imdb-tfidf-logreg", "wall_seconds", seconds, "s"));
    }

    private static double Accuracy(TfidfLogisticRegression m, List<(string Text, int Label)> data) =>
        data.Count(e => (m.Probability(e.Text) >= 0.5 ? 1 : 0) == e.Label) / (double)data.Count;

    private static List<(string Text, int Label)> Read(string path)
    {
        var rows = new List<(string, int)>();
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            string label = doc.RootElement.GetProperty("label").GetString()!;
            rows.Add((doc.RootElement.GetProperty("text").GetString()!, label == "pos" ? 1 : 0));
        }
        return rows;
    }
}
