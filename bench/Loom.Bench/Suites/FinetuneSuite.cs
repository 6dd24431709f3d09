// The IMDB sentiment suite (issue 12 §4). Cases, each selectable by --filter:
//  - imdb-tfidf-logreg: the anchor, a TF-IDF (uni+bigram) logistic regression written in the bench (equal to
//    scikit-learn within 0.01 points, Anchors/tfidf_logreg_sklearn.py).
//  - imdb: the end-to-end recipe through the built `loom` CLI, each phase a child process as a user runs it
//    (examples/imdb/*.yaml, overridden by --set from the budget knobs of ImdbSettings): WordPiece tokenizer on
//    train+unsup text → optional BERT masked-LM pre-training for a bounded number of minutes → `loom finetune`
//    on the labelled train reviews with a stratified validation hold-out → `loom classify` on the test reviews.
//    Test accuracy is computed here from classify's output; every phase's wall time is a row.
//  - imdb-ensemble-tfidf-mean-prob: the mean of the fine-tuned model's and the anchor's P(pos), reported apart.
//  - ladder: the efficient-training ladder at a fixed fresh BERT on a fixed subset, one `loom finetune` epoch per rung.
//  - classify-throughput: reviews/s of `loom classify` with the imdb case's model.
// Reads ../shared/data/imdb; skipped when the folder is absent. Runs go to runs/bench-finetune (LOOM_BENCH_WORK).
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Bench.Anchors;
using Loom.Bench.Suites.Finetune;

namespace Loom.Bench.Suites;

internal static class FinetuneSuite
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(BenchContext ctx)
    {
        string dir = Path.GetFullPath(Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data", "imdb"));
        if (!File.Exists(Path.Combine(dir, "train.jsonl.gz")) || !File.Exists(Path.Combine(dir, "test.jsonl.gz")))
        {
            Console.WriteLine($"skipped: {dir} holds no IMDB files (the suite reads ../shared/data/imdb/{{train,test}}.jsonl.gz).");
            return;
        }
        var s = ImdbSettings.FromEnvironment();
        int threads = ctx.Threads.Max();
        var train = Read(Path.Combine(dir, "train.jsonl.gz"));
        var test = Read(Path.Combine(dir, "test.jsonl.gz"));
        // A seeded subset when the budget asks for fewer reviews (the train file is ordered by label).
        var trainUsed = s.TrainReviews > 0 && s.TrainReviews < train.Count ? Shuffled(train, 1234).Take(s.TrainReviews).ToList() : train;
        var testUsed = s.TestReviews > 0 && s.TestReviews < test.Count ? Shuffled(test, 4321).Take(s.TestReviews).ToList() : test;

        TfidfLogisticRegression? baseline = null;
        if (ctx.Selected("imdb-tfidf-logreg")) baseline = Baseline(ctx, trainUsed, testUsed, record: true);
        Dictionary<string, double>? loomPos = null;
        if (ctx.Selected("imdb")) loomPos = Imdb(ctx, s, dir, trainUsed, testUsed, threads);
        else if (ctx.Selected("imdb-rescore")) Rescore(ctx, s, testUsed);
        if (ctx.Selected("imdb-ensemble-tfidf-mean-prob"))
        {
            loomPos ??= ReadPredictions(Path.Combine(s.WorkDir, "imdb", "predictions.jsonl"), testUsed.Count);
            if (loomPos is null || !testUsed.All(r => loomPos.ContainsKey(r.Id))) Console.WriteLine("imdb-ensemble-tfidf-mean-prob skipped: no predictions of the imdb case for this test set (run --filter imdb first).");
            else Ensemble(ctx, baseline ?? Baseline(ctx, trainUsed, testUsed, record: false), loomPos, testUsed, s.Family);
        }
        if (ctx.Selected("ladder")) Ladder(ctx, s, train, test, threads);
        if (ctx.Selected("classify-throughput")) ClassifyThroughput(ctx, s, dir, test, threads);
    }

    private static TfidfLogisticRegression Baseline(BenchContext ctx, List<Review> train, List<Review> test, bool record)
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
        if (!record) return model;
        double testAccuracy = Accuracy(model, test);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{"imdb-tfidf-logreg",-28} test accuracy {testAccuracy:P2} (C={bestC}, {model.FeatureCount:N0} features, {train.Count:N0} train / {test.Count:N0} test reviews, {seconds:F0} s incl. C search)");
        ctx.Rows.Add(new BenchRow("imdb-tfidf-logreg", "test_accuracy", testAccuracy, "fraction"));
        ctx.Rows.Add(new BenchRow("imdb-tfidf-logreg", "wall_seconds", seconds, "s"));
        return model;
    }

    // The recipe of docs/FINETUNING.md "IMDB end to end", phase by phase. Returns P(pos) per test review id.
    private static Dictionary<string, double> Imdb(BenchContext ctx, ImdbSettings s, string dir, List<Review> train, List<Review> test, int threads)
    {
        string work = Path.Combine(s.WorkDir, "imdb");
        Directory.CreateDirectory(work);
        var total = Stopwatch.StartNew();
        // Data: the shared files themselves for the full run; seeded subsets written as JSONL for a smaller budget.
        string trainFile = s.TrainReviews > 0 ? Write(Path.Combine(work, "train.jsonl"), train) : Path.Combine(dir, "train.jsonl.gz");
        string testFile = s.TestReviews > 0 ? Write(Path.Combine(work, "test.jsonl"), test) : Path.Combine(dir, "test.jsonl.gz");
        string unsupFile = Path.Combine(dir, "unsup.jsonl.gz");
        if (s.UnsupReviews > 0 && File.Exists(unsupFile)) unsupFile = Write(Path.Combine(work, "unsup.jsonl"), Read(unsupFile).Take(s.UnsupReviews).ToList());
        var text = File.Exists(unsupFile) ? new[] { trainFile, unsupFile } : new[] { trainFile };
        double dataSeconds = total.Elapsed.TotalSeconds;

        // (a) A tokenizer on train + unsup text (never the test reviews): WordPiece for BERT, byte-level BPE for GPT-2.
        bool gpt2 = s.Family == "gpt2";
        string tokenizer = Path.Combine(work, "tokenizer");
        var tok = LoomChild.Run(["tokenizer", "train", .. (gpt2 ? Array.Empty<string>() : ["--model", "wordpiece"]), "--input", .. text, "--vocab-size", I(s.VocabSize), "--output", tokenizer, "--overwrite"],
            threads, Path.Combine(work, "logs", "tokenizer.log"));

        // (b) Language-model pre-training for a bounded number of minutes (examples/imdb/pretrain[-gpt2].yaml).
        string pretrained = Path.Combine(work, gpt2 ? "gpt2" : "bert");
        LoomRun? pre = null;
        int positions = Math.Max(s.MaxLength, s.PretrainSequenceLength);
        List<string> model = gpt2
            ? [$"model.n_embd={s.Hidden}", $"model.n_layer={s.Layers}", $"model.n_head={s.Heads}", $"model.n_positions={positions}"]
            : [$"model.hidden_size={s.Hidden}", $"model.num_hidden_layers={s.Layers}", $"model.num_attention_heads={s.Heads}",
               $"model.intermediate_size={4 * s.Hidden}", $"model.max_position_embeddings={positions}"];
        string suffix = gpt2 ? "-gpt2" : "";
        if (s.PretrainMinutes > 0)
            pre = LoomChild.Run(["train", "--config", $"examples/imdb/pretrain{suffix}.yaml", "--overwrite", "--set", $"output={pretrained}", $"data=[{string.Join(", ", text)}]",
                    $"tokenizer={tokenizer}", $"train.time_budget_seconds={(s.PretrainMinutes * 60).ToString("R", Inv)}", $"train.sequence_length={s.PretrainSequenceLength}", .. model],
                threads, Path.Combine(work, "logs", "pretrain.log"));

        // (c) Fine-tune on the labelled train reviews, 10% stratified hold-out (examples/imdb/finetune[-gpt2].yaml).
        string run = Path.Combine(work, "finetune");
        var set = new List<string> { $"output={run}", $"data.train={trainFile}", $"train.epochs={s.Epochs}", $"train.max_length={s.MaxLength}" };
        if (pre is null) set.AddRange(["init_from=~", $"tokenizer={tokenizer}", $"model.model_type={s.Family}", .. model]);
        else set.Add($"init_from={pretrained}");
        var ft = LoomChild.Run(["finetune", "--config", $"examples/imdb/finetune{suffix}.yaml", "--overwrite", "--set", .. set], threads, Path.Combine(work, "logs", "finetune.log"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval_results.json")))!;
        double validationAccuracy = (double)results["metrics"]!["accuracy"]!;

        // (d) Classify the test reviews; accuracy against their labels here.
        string predictions = Path.Combine(work, "predictions.jsonl");
        var cls = LoomChild.Run(["classify", "--model", Path.Combine(run, "model"), "--input", testFile, "--batch-size", "32", "--max-length", I(s.MaxLength), "--output", predictions],
            threads, Path.Combine(work, "logs", "classify.log"));
        File.WriteAllLines(Path.ChangeExtension(predictions, ".ids"), test.Select(r => r.Id));   // which review each line is
        var pos = ReadPredictions(predictions, test.Count) ?? throw new InvalidDataException($"{predictions} does not hold {test.Count} predictions.");
        double accuracy = test.Count(r => (pos[r.Id] >= 0.5 ? 1 : 0) == r.Label) / (double)test.Count;
        double seconds = total.Elapsed.TotalSeconds;

        Console.WriteLine($"{"imdb",-28} test accuracy {accuracy:P2} (validation {validationAccuracy:P2}), {seconds / 60:F1} min end to end: " +
                          $"tokenizer {tok.WallSeconds:F0} s, pre-train {pre?.WallSeconds ?? 0:F0} s, fine-tune {ft.WallSeconds:F0} s, classify {cls.WallSeconds:F0} s " +
                          $"({cls.WallSeconds / test.Count * 1000:F1} ms/review); {(gpt2 ? "GPT-2" : "BERT")} {s.Layers}×{s.Hidden}, vocab {s.VocabSize}, max_length {s.MaxLength}, {s.Epochs} epochs, {train.Count:N0} train / {test.Count:N0} test reviews");
        ctx.Rows.Add(new BenchRow("imdb", "test_accuracy", accuracy, "fraction"));
        ctx.Rows.Add(new BenchRow("imdb", "validation_accuracy", validationAccuracy, "fraction"));
        ctx.Rows.Add(new BenchRow("imdb", "wall_seconds", seconds, "s"));
        ctx.Rows.Add(new BenchRow("imdb phase data", "wall_seconds", dataSeconds, "s"));
        ctx.Rows.Add(new BenchRow("imdb phase tokenizer", "wall_seconds", tok.WallSeconds, "s"));
        ctx.Rows.Add(new BenchRow("imdb phase pretrain", "wall_seconds", pre?.WallSeconds ?? 0, "s"));
        ctx.Rows.Add(new BenchRow("imdb phase finetune", "wall_seconds", ft.WallSeconds, "s"));
        ctx.Rows.Add(new BenchRow("imdb phase classify", "wall_seconds", cls.WallSeconds, "s"));
        // The settings that moved the figure, as rows (a row's value is a number).
        ctx.Rows.Add(new BenchRow("imdb setting", "pretrain_minutes", s.PretrainMinutes, "min"));
        ctx.Rows.Add(new BenchRow("imdb setting", "pretrain_sequence_length", s.PretrainSequenceLength, "tokens"));
        ctx.Rows.Add(new BenchRow("imdb setting", "hidden_size", s.Hidden, "units"));
        ctx.Rows.Add(new BenchRow("imdb setting", "num_hidden_layers", s.Layers, "layers"));
        ctx.Rows.Add(new BenchRow("imdb setting", "vocab_size", s.VocabSize, "tokens"));
        ctx.Rows.Add(new BenchRow("imdb setting", "max_length", s.MaxLength, "tokens"));
        ctx.Rows.Add(new BenchRow("imdb setting", "epochs", s.Epochs, "epochs"));
        ctx.Rows.Add(new BenchRow("imdb setting", "train_reviews", train.Count, "reviews"));
        ctx.Rows.Add(new BenchRow("imdb setting", "test_reviews", test.Count, "reviews"));
        ctx.Rows.Add(new BenchRow("imdb setting", "threads", threads, "threads"));
        ctx.Rows.Add(new BenchRow("imdb setting", "family_gpt2", gpt2 ? 1 : 0, "1 = GPT-2 causal LM, 0 = BERT masked LM"));
        return pos;
    }

    // The imdb case's test accuracy again from its saved predictions (runs/bench-finetune/imdb/predictions.jsonl and
    // .ids), without training: for a run whose scoring step failed or changed after it ran.
    private static void Rescore(BenchContext ctx, ImdbSettings s, List<Review> test)
    {
        string predictions = Path.Combine(s.WorkDir, "imdb", "predictions.jsonl");
        var pos = ReadPredictions(predictions, test.Count);
        if (pos is null || !test.All(r => pos.ContainsKey(r.Id)))
        {
            Console.WriteLine($"imdb-rescore skipped: {predictions} holds no predictions for this test set (run --filter imdb first).");
            return;
        }
        double accuracy = test.Count(r => (pos[r.Id] >= 0.5 ? 1 : 0) == r.Label) / (double)test.Count;
        Console.WriteLine($"{"imdb-rescore",-28} test accuracy {accuracy:P2} ({test.Count:N0} test reviews, from {predictions})");
        ctx.Rows.Add(new BenchRow("imdb-rescore", "test_accuracy", accuracy, "fraction"));
    }

    private static void Ensemble(BenchContext ctx, TfidfLogisticRegression baseline, Dictionary<string, double> loomPos, List<Review> test, string family)
    {
        // Mean of the two P(pos); reported apart from the Loom row, which must stand on the transformer alone.
        double accuracy = test.Count(r => ((loomPos[r.Id] + baseline.Probability(r.Text)) / 2 >= 0.5 ? 1 : 0) == r.Label) / (double)test.Count;
        Console.WriteLine($"{"imdb-ensemble-tfidf-mean-prob",-28} test accuracy {accuracy:P2} (mean of the fine-tuned {(family == "gpt2" ? "GPT-2" : "BERT")}'s and the TF-IDF logistic regression's P(pos))");
        ctx.Rows.Add(new BenchRow("imdb-ensemble-tfidf-mean-prob", "test_accuracy", accuracy, "fraction"));
    }

    // One rung per efficient-training option, each adding to the one before (issue 12 §4), at a fixed fresh BERT
    // (2 layers × 128, the imdb case's tokenizer or one trained here) on a fixed subset: LadderTrain seeded train
    // reviews and LadderValidation test reviews as the validation file, max_length 512, one epoch, batch 16.
    private static void Ladder(BenchContext ctx, ImdbSettings s, List<Review> train, List<Review> test, int threads)
    {
        string work = Path.Combine(s.WorkDir, "ladder");
        Directory.CreateDirectory(work);
        string trainFile = Write(Path.Combine(work, "train.jsonl"), Shuffled(train, 99).Take(s.LadderTrain).ToList());
        string validationFile = Write(Path.Combine(work, "validation.jsonl"), Shuffled(test, 98).Take(s.LadderValidation).ToList());
        string tokenizer = Path.Combine(s.WorkDir, "imdb", "tokenizer");
        if (!File.Exists(Path.Combine(tokenizer, "vocab.txt")))
        {
            tokenizer = Path.Combine(work, "tokenizer");
            LoomChild.Run(["tokenizer", "train", "--model", "wordpiece", "--input", trainFile, "--vocab-size", I(s.VocabSize), "--output", tokenizer, "--overwrite"], threads, Path.Combine(work, "logs", "tokenizer.log"));
        }
        string[] common =
        [
            "init_from=~", $"tokenizer={tokenizer}", "model.model_type=bert", "model.hidden_size=128", "model.num_hidden_layers=2", "model.num_attention_heads=2",
            "model.intermediate_size=512", "model.max_position_embeddings=512", $"data.train={trainFile}", $"data.validation={validationFile}",
            "train.epochs=1", "train.max_length=512", "train.truncation=head", "train.learning_rate=5.0e-4",
        ];
        var rungs = new (string Name, string[] Set)[]
        {
            ("pad-to-512", ["train.pad_to_max_length=true", "train.length_bucketing=false", "train.batch_size=16"]),
            ("dynamic-padding", ["train.length_bucketing=false", "train.batch_size=16"]),
            ("uniform-length-batching", ["train.length_bucketing=true", "train.batch_size=16"]),
            // Same effective batch (16) from two micro-batches of 8: the activation memory of 8.
            ("+gradient-accumulation", ["train.length_bucketing=true", "train.batch_size=8", "train.gradient_accumulation=2"]),
            ("+activation-checkpointing", ["train.length_bucketing=true", "train.batch_size=8", "train.gradient_accumulation=2", "train.activation_checkpointing=true"]),
            ("+bf16", ["train.length_bucketing=true", "train.batch_size=8", "train.gradient_accumulation=2", "train.activation_checkpointing=true", "train.precision=bf16"]),
        };
        Console.WriteLine($"ladder: BERT 2×128 fresh, {s.LadderTrain:N0} train / {s.LadderValidation:N0} validation reviews, max_length 512, 1 epoch, {threads} threads; " +
                          "time per epoch = the whole `loom finetune` wall time (start-up, tokenizing and one validation pass included); memory = the child's max RSS");
        foreach (var (name, set) in rungs)
        {
            string run = Path.Combine(work, name);
            var r = LoomChild.Run(["finetune", "--config", "examples/imdb/finetune.yaml", "--overwrite", "--set", $"output={run}", .. common, .. set], threads, Path.Combine(work, "logs", name + ".log"));
            var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval_results.json")))!;
            double accuracy = (double)results["metrics"]!["accuracy"]!;
            Console.WriteLine($"{"ladder " + name,-36} {r.WallSeconds,8:F1} s/epoch  {(r.MaxRssBytes is { } b ? $"{b / 1048576.0,7:F0} MiB max RSS" : "max RSS n/a"),-18}  validation accuracy {accuracy:P2}");
            ctx.Rows.Add(new BenchRow("ladder " + name, "seconds_per_epoch", r.WallSeconds, "s"));
            if (r.MaxRssBytes is { } rss) ctx.Rows.Add(new BenchRow("ladder " + name, "peak_rss_bytes", rss, "bytes (child max RSS)"));
            ctx.Rows.Add(new BenchRow("ladder " + name, "validation_accuracy", accuracy, "fraction"));
        }
    }

    // Reviews/s of `loom classify` (batch 32, the imdb run's max_length) over the first ClassifyReviews test
    // reviews (0: all 25,000), with the imdb case's fine-tuned model. Wall time of the whole command: model
    // load and JSON output included, as a user sees it.
    private static void ClassifyThroughput(BenchContext ctx, ImdbSettings s, string dir, List<Review> test, int threads)
    {
        string model = Path.Combine(s.WorkDir, "imdb", "finetune", "model");
        if (!File.Exists(Path.Combine(model, "config.json")))
        {
            Console.WriteLine($"classify-throughput skipped: {model} holds no fine-tuned model (run --filter imdb first).");
            return;
        }
        string work = Path.Combine(s.WorkDir, "classify");
        Directory.CreateDirectory(work);
        int n = s.ClassifyReviews > 0 && s.ClassifyReviews < test.Count ? s.ClassifyReviews : test.Count;
        string input = n < test.Count ? Write(Path.Combine(work, "input.jsonl"), test.Take(n).ToList()) : Path.Combine(dir, "test.jsonl.gz");
        var r = LoomChild.Run(["classify", "--model", model, "--input", input, "--batch-size", "32", "--max-length", I(s.MaxLength), "--output", Path.Combine(work, "predictions.jsonl")],
            threads, Path.Combine(work, "classify.log"));
        Console.WriteLine($"{$"classify-throughput threads={threads}",-36} {n / r.WallSeconds:F1} reviews/s ({n:N0} test reviews, max_length {s.MaxLength}, {r.WallSeconds:F1} s)");
        ctx.Rows.Add(new BenchRow($"classify-throughput threads={threads}", "reviews_per_second", n / r.WallSeconds, "reviews/s"));
        ctx.Rows.Add(new BenchRow($"classify-throughput threads={threads}", "reviews", n, "reviews"));
    }

    // P(pos) by review id from classify's JSON lines, in input order; null when the file is absent or its count differs.
    private static Dictionary<string, double>? ReadPredictions(string path, int expected)
    {
        if (!File.Exists(path)) return null;
        var lines = File.ReadAllLines(path);
        string ids = Path.ChangeExtension(path, ".ids");
        if (lines.Length != expected || !File.Exists(ids)) return null;
        var idList = File.ReadAllLines(ids);
        if (idList.Length != lines.Length) return null;
        var result = new Dictionary<string, double>();
        for (int i = 0; i < lines.Length; i++)
            if (!result.TryAdd(idList[i], (double)JsonNode.Parse(lines[i])!["probabilities"]!["pos"]!))
                throw new InvalidDataException($"{ids} line {i + 1}: review id \"{idList[i]}\" appears twice; predictions must map to distinct reviews.");
        return result;
    }

    private static double Accuracy(TfidfLogisticRegression m, List<Review> data) =>
        data.Count(e => (m.Probability(e.Text) >= 0.5 ? 1 : 0) == e.Label) / (double)data.Count;

    private static List<Review> Shuffled(List<Review> data, int seed)
    {
        var rng = new Random(seed);
        return data.OrderBy(_ => rng.Next()).ToList();
    }

    private static string I(int v) => v.ToString(Inv);

    private static string Write(string path, List<Review> rows)
    {
        using var w = new StreamWriter(path);
        foreach (var r in rows) w.WriteLine(JsonSerializer.Serialize(new { id = r.Id, text = r.Text, label = r.Label == 1 ? "pos" : "neg" }));
        return path;
    }

    internal static List<Review> Read(string path)
    {
        var rows = new List<Review>();
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            // The key is the line's position in its file: IMDB's own "id" repeats across labels (pos/0 and neg/0 are
            // different reviews), and keying predictions by it once scored every review against the wrong one.
            string id = rows.Count.ToString(Inv);
            string label = root.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString()! : "";
            rows.Add(new Review(id, root.GetProperty("text").GetString()!, label == "pos" ? 1 : 0));
        }
        return rows;
    }
}
