// `loom monitor stat|report|watch` end to end in-process. stat is checked against scipy 1.10.1 through the
// Monitoring fixture (tests/Loom.Monitoring.Tests/Fixtures/drift_stats.json, made by make_drift_fixtures.py).
using System.Globalization;
using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

public sealed class MonitorCommandsTests
{
    private static JsonElement Case(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "monitoring", "drift_stats.json")))
        .RootElement.GetProperty("numeric").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static string Numbers(string dir, string name, JsonElement values)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllLines(path, values.EnumerateArray().Select(v => v.GetDouble().ToString("R", CultureInfo.InvariantCulture)));
        return path;
    }

    [Fact]
    public void Stat_prints_scipys_ks_and_the_divergences_for_plain_number_files()
    {
        string dir = CliRunner.TempDir();
        var c = Case("unequal-n-exact");
        string r = Numbers(dir, "ref.txt", c.GetProperty("reference")), cur = Numbers(dir, "cur.txt", c.GetProperty("current"));
        var (code, output, console) = CliRunner.Run("monitor", "stat", "--test", "ks", "--reference", r, "--current", cur);
        Assert.True(code == 0, console);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(c.GetProperty("ks").GetProperty("statistic").GetDouble(), json.GetProperty("statistic").GetDouble(), 12);
        Assert.Equal(c.GetProperty("ks").GetProperty("p_value").GetDouble(), json.GetProperty("p_value").GetDouble(), 10);
        foreach (var test in new[] { "psi", "kl", "js", "wasserstein" })
        {
            (code, output, console) = CliRunner.Run("monitor", "stat", "--test", test, "--reference", r, "--current", cur);
            Assert.True(code == 0, console);
            json = JsonDocument.Parse(output).RootElement;
            Assert.Equal(c.GetProperty(test).GetDouble(), json.GetProperty("statistic").GetDouble(), 10);
            Assert.False(json.TryGetProperty("p_value", out _));
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Stat_reads_a_jsonl_column_and_refuses_ks_on_categories_with_one_error_line()
    {
        string dir = CliRunner.TempDir();
        string r = Path.Combine(dir, "r.jsonl"), cur = Path.Combine(dir, "c.jsonl");
        File.WriteAllLines(r, Enumerable.Range(0, 60).Select(i => $"{{\"label\": \"{(i % 3 == 0 ? "a" : "b")}\", \"x\": {i}}}"));
        File.WriteAllLines(cur, Enumerable.Range(0, 40).Select(i => $"{{\"label\": \"{(i % 2 == 0 ? "a" : "b")}\", \"x\": {i + 5}}}"));
        var (code, output, console) = CliRunner.Run("monitor", "stat", "--test", "chi2", "--reference", r, "--current", cur, "--column", "label");
        Assert.True(code == 0, console);
        // χ² by hand: expected a = 20·40/60, b = 40·40/60; observed 20, 20.
        double ea = 20 * 40.0 / 60, eb = 40 * 40.0 / 60, chi2 = (20 - ea) * (20 - ea) / ea + (20 - eb) * (20 - eb) / eb;
        Assert.Equal(chi2, JsonDocument.Parse(output).RootElement.GetProperty("statistic").GetDouble(), 12);
        (code, _, console) = CliRunner.Run("monitor", "stat", "--test", "ks", "--reference", r, "--current", cur, "--column", "label");
        Assert.Equal(1, code);
        Assert.Contains("error:", console);
        Assert.Contains("--test ks needs numbers", console);
        (code, _, console) = CliRunner.Run("monitor", "stat", "--test", "ks", "--reference", r, "--current", cur);
        Assert.Equal(1, code);
        Assert.Contains("name one with --column", console);
        (code, _, console) = CliRunner.Run("monitor", "stat", "--test", "t-test", "--reference", r, "--current", cur, "--column", "x");
        Assert.Equal(1, code);
        Assert.Contains("unknown test", console);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Report_writes_json_and_html_and_names_the_drifted_column()
    {
        string dir = CliRunner.TempDir();
        string r = Path.Combine(dir, "r.csv"), cur = Path.Combine(dir, "c.csv"), output = Path.Combine(dir, "out");
        File.WriteAllLines(r, new[] { "x,y" }.Concat(Enumerable.Range(0, 300).Select(i => $"{i % 50},{(i * 7) % 40}")));
        File.WriteAllLines(cur, new[] { "x,y" }.Concat(Enumerable.Range(0, 200).Select(i => $"{i % 50 + 20},{(i * 7) % 40}")));
        var (code, stdout, console) = CliRunner.Run("monitor", "report", "--reference", r, "--current", cur, "--output", output);
        Assert.True(code == 0, console);
        var summary = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(["x"], summary.GetProperty("drifted_features").EnumerateArray().Select(e => e.GetString()));
        Assert.True(summary.GetProperty("dataset_drift").GetBoolean());    // 1 of 2 features: share 0.5 reaches the default 0.5
        Assert.True(File.Exists(Path.Combine(output, "report.html")));
        Assert.Equal("ks", JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))).RootElement.GetProperty("features")[0].GetProperty("test").GetString());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Report_with_a_model_embeds_with_it_and_cuts_texts_to_its_context()
    {
        string dir = CliRunner.TempDir();
        var bpe = Loom.Tokenizers.Trainer.BpeTrainer.Train([string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 50))],
            new Loom.Tokenizers.Trainer.BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        string modelDir = Path.Combine(dir, "tiny-gpt");
        Directory.CreateDirectory(modelDir);
        Loom.Tokenizers.Formats.HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(modelDir, "tokenizer.json"), bpe.Merges);
        using (var model = new Loom.Models.Gpt2.Gpt2Model(new Loom.Models.Gpt2.Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 1, Heads = 2 }))
        {
            model.InitializeWeights(4);
            model.Save(modelDir);
        }
        string r = Path.Combine(dir, "r.jsonl"), cur = Path.Combine(dir, "c.jsonl"), output = Path.Combine(dir, "out");
        // 40 texts a side; some far longer than the model's 32 positions
        File.WriteAllLines(r, Enumerable.Range(0, 40).Select(i => JsonSerializer.Serialize(new { text = string.Join(' ', Enumerable.Repeat("to be or not", 1 + i % 20)) })));
        File.WriteAllLines(cur, Enumerable.Range(0, 40).Select(i => JsonSerializer.Serialize(new { text = string.Join(' ', Enumerable.Repeat("that is the question", 1 + i % 20)) })));
        var (code, _, console) = CliRunner.Run("monitor", "report", "--reference", r, "--current", cur, "--output", output, "--model", modelDir);
        Assert.True(code == 0, console);
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))).RootElement;
        Assert.Equal("tiny-gpt", report.GetProperty("embedder").GetString());
        var embedding = report.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "text:embedding");
        Assert.True(embedding.GetProperty("drifted").GetBoolean());     // different words: the classifier tells them apart
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Watch_once_on_a_missing_or_foreign_log_is_one_error_line()
    {
        string dir = CliRunner.TempDir();
        string r = Path.Combine(dir, "r.jsonl");
        File.WriteAllText(r, "{\"text\": \"hello world\"}\n");
        var (code, _, console) = CliRunner.Run("monitor", "watch", "--log-db", Path.Combine(dir, "none.db"), "--reference", r, "--once");
        Assert.Equal(1, code);
        Assert.Contains("--log-db", console);
        (code, _, console) = CliRunner.Run("monitor", "watch", "--log-db", r, "--reference", r, "--once");
        Assert.Equal(1, code);
        Assert.Contains("not a SQLite database", console);
        Directory.Delete(dir, true);
    }
}
