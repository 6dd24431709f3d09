// The augmentation measurement of issue 17 §4: accuracy of a classifier trained on 500 IMDB reviews
// with and without each augmentation. Per seed: a stratified 250 pos + 250 neg train sample (seeded),
// augmented by `loom augment`'s Augmenter (2 new records per review, α = 0.1: synonym and EDA through
// WordNet, mask through a BERT masked LM), originals kept; the fixed classifier recipe is the finetune
// suite's TF-IDF (uni+bigram, min_df 2, sublinear tf) L2 logistic regression at C = 16, fitted on the
// result and scored on a fixed 2,000-review test subset (seed 4321). Cases: augment-none,
// augment-synonym, augment-eda, augment-mask; rows test_accuracy_mean and _std (sample std over seeds).
// Back-translation and paraphrase need a generative endpoint good enough to translate, which the
// models trainable offline here are not: they are not measured.
// Reads ../shared/data/imdb and ../shared/data/wordnet; mask reads LOOM_BENCH_BERT (default
// runs/imdb/bert, the BertForMaskedLM of docs/FINETUNING.md's IMDB recipe) and is skipped without it.
// LOOM_BENCH_AUGMENT_SEEDS (default 3) sets the number of seeds.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Loom.Bench.Anchors;
using Loom.Bench.Suites.Finetune;
using Loom.Training.Augmentation;

namespace Loom.Bench.Suites;

internal static class AugmentSuite
{
    private const int TrainPerClass = 250, TestReviews = 2000, PerRecord = 2;
    private const double Alpha = 0.1, C = 16;

    public static void Run(BenchContext ctx)
    {
        string root = Path.GetFullPath(Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data"));
        string imdb = Path.Combine(root, "imdb"), wordnetDir = Path.Combine(root, "wordnet");
        if (!File.Exists(Path.Combine(imdb, "train.jsonl.gz")) || !File.Exists(Path.Combine(imdb, "test.jsonl.gz")))
        {
            Console.WriteLine($"skipped: {imdb} holds no IMDB files.");
            return;
        }
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("LOOM_BENCH_AUGMENT_SEEDS"), out int n) && n > 0 ? n : 3;
        string bertDir = Environment.GetEnvironmentVariable("LOOM_BENCH_BERT") ?? Path.Combine(BenchPaths.RepoRoot, "runs", "imdb", "bert");
        var train = FinetuneSuite.Read(Path.Combine(imdb, "train.jsonl.gz"));
        var rngTest = new Random(4321);
        var test = FinetuneSuite.Read(Path.Combine(imdb, "test.jsonl.gz")).OrderBy(_ => rngTest.Next()).Take(TestReviews).ToList();
        EasyDataAugmentation? eda = Directory.Exists(wordnetDir) ? new EasyDataAugmentation(WordNet.Open(wordnetDir)) : null;
        using MaskedWordFiller? filler = Directory.Exists(bertDir) ? MaskedWordFiller.Open(bertDir) : null;
        Console.WriteLine($"augment: {TrainPerClass * 2} train reviews per seed, {seeds} seeds, {test.Count:N0} test reviews; TF-IDF logistic regression C={C}; {PerRecord} augmentations per review, α={Alpha}; mask model {(filler is null ? "absent (" + bertDir + ")" : bertDir)}");

        foreach (var method in new[] { "none", "synonym", "eda", "mask" })
        {
            string name = "augment-" + method;
            if (!ctx.Selected(name)) continue;
            if (method is "synonym" or "eda" && eda is null) { Console.WriteLine($"{name} skipped: no WordNet at {wordnetDir}."); continue; }
            if (method == "mask" && filler is null) { Console.WriteLine($"{name} skipped: no BERT masked LM at {bertDir} (set LOOM_BENCH_BERT)."); continue; }
            var accuracies = new List<double>();
            double records = 0, seconds = 0;
            for (int seed = 0; seed < seeds; seed++)
            {
                var rng = new Random(1000 + seed);
                var sample = train.Where(r => r.Label == 1).OrderBy(_ => rng.Next()).Take(TrainPerClass)
                    .Concat(train.Where(r => r.Label == 0).OrderBy(_ => rng.Next()).Take(TrainPerClass)).ToList();
                var clock = Stopwatch.StartNew();
                var data = method == "none" ? sample : Augment(sample, method, eda, filler, seed);
                seconds += clock.Elapsed.TotalSeconds;
                records += data.Count;
                var model = new TfidfLogisticRegression();
                model.Fit(data.Select(r => r.Text).ToList(), data.Select(r => r.Label).ToList(), C);
                double accuracy = test.Count(r => (model.Probability(r.Text) >= 0.5 ? 1 : 0) == r.Label) / (double)test.Count;
                accuracies.Add(accuracy);
                Console.WriteLine($"  {name} seed {seed}: {data.Count:N0} training records, test accuracy {accuracy:P2}");
            }
            double mean = accuracies.Average();
            double std = accuracies.Count > 1 ? Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / (accuracies.Count - 1)) : 0;
            Console.WriteLine($"{name,-18} test accuracy {mean:P2} ± {std:P2} over {seeds} seeds ({records / seeds:N0} records per run, augmentation {seconds / seeds:F1} s per run)");
            ctx.Rows.Add(new BenchRow(name, "test_accuracy_mean", mean, "fraction"));
            ctx.Rows.Add(new BenchRow(name, "test_accuracy_std", std, "fraction"));
            ctx.Rows.Add(new BenchRow(name, "training_records", records / seeds, "records"));
            ctx.Rows.Add(new BenchRow(name, "augment_seconds", seconds / seeds, "s"));
        }
    }

    // The sample through `loom augment`'s Augmenter (originals kept, labels copied, duplicates dropped).
    private static List<Review> Augment(List<Review> sample, string method, EasyDataAugmentation? eda, MaskedWordFiller? filler, int seed)
    {
        var lines = sample.Select(r => JsonSerializer.Serialize(new { id = r.Id, text = r.Text, label = r.Label })).ToList();
        var options = new AugmentationOptions { Method = method, PerRecord = PerRecord, Alpha = Alpha, KeepOriginal = true, Seed = seed, MaskWords = 0 };
        var output = new StringWriter();
        new Augmenter(options, eda, null, filler).RunAsync(lines, "imdb-sample", output).GetAwaiter().GetResult();
        var result = new List<Review>();
        foreach (var line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            result.Add(new Review(r.GetProperty("id").GetString()!, r.GetProperty("text").GetString()!, r.GetProperty("label").GetInt32()));
        }
        return result;
    }
}
