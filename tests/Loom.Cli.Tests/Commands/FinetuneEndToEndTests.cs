using System.Text.Json.Nodes;

namespace Loom.Cli.Tests.Commands;

// `loom finetune` then `loom classify` end to end on fresh tiny models (a BERT with a WordPiece vocabulary,
// a GPT-2 with GPT-2's tokenizer) and a trivially learnable task: a text holding "good"/"great" is pos,
// one holding "bad"/"awful" is neg, among random filler words. Chance is 50%; the runs must clear 80%.
public class FinetuneEndToEndTests
{
    private static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "great", "good", "awful", "bad", "plot", "and", "a", "very", "film", "it", "is"];

    private static string Data(string dir, string name, int n, int seed, bool oneLong = false)
    {
        var rng = new Random(seed);
        string[] filler = ["the", "movie", "was", "plot", "and", "a", "very", "film", "it", "is"];
        var lines = new List<string>();
        for (int i = 0; i < n; i++)
        {
            bool pos = rng.Next(2) == 0;
            var words = Enumerable.Range(0, 2 + rng.Next(6)).Select(_ => filler[rng.Next(filler.Length)]).ToList();
            words.Insert(rng.Next(words.Count + 1), pos ? (rng.Next(2) == 0 ? "good" : "great") : (rng.Next(2) == 0 ? "bad" : "awful"));
            if (oneLong && i == 0) words.AddRange(Enumerable.Repeat("film", 60));
            lines.Add(new JsonObject { ["text"] = string.Join(' ', words), ["label"] = pos ? "pos" : "neg" }.ToJsonString());
        }
        string path = Path.Combine(dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private static (string Output, string Validation) Finetune(string dir, string modelLines)
    {
        string train = Data(dir, "train.jsonl", 96, 1, oneLong: true), validation = Data(dir, "validation.jsonl", 40, 2);
        string config = Path.Combine(dir, "finetune.yaml");
        File.WriteAllText(config, $"output: {dir}/run\n{modelLines}\ndata: {{train: {train}, validation: {validation}}}\n" +
            "train: {epochs: 6, batch_size: 8, learning_rate: 3.0e-3, warmup_ratio: 0.1, max_length: 24, metric_for_best_model: accuracy, seed: 3}\n");
        var (code, output, console) = CliRunner.Run("finetune", "--config", config);
        Assert.True(code == 0, console + output);
        Assert.DoesNotContain("   at ", console);
        Assert.Contains("1 truncated to train.max_length 24", console);   // the one long review, counted
        return (Path.Combine(dir, "run"), validation);
    }

    private static void CheckClassify(string model, string validation, double minimum)
    {
        var (code, output, console) = CliRunner.Run("classify", "--model", model, "--input", validation, "--batch-size", "5");
        Assert.True(code == 0, console + output);
        var predictions = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var truth = File.ReadAllLines(validation).Select(l => (string)JsonNode.Parse(l)!["label"]!).ToList();
        Assert.Equal(truth.Count, predictions.Count);   // one line per input line, in order
        foreach (var p in predictions)
        {
            var probs = p["probabilities"]!.AsObject();
            Assert.Equal(["neg", "pos"], probs.Select(kv => kv.Key).Order());
            Assert.Equal(1.0, probs.Sum(kv => (double)kv.Value!), 4);
            Assert.Equal((string)p["label"]!, probs.MaxBy(kv => (double)kv.Value!).Key);
        }
        double accuracy = predictions.Zip(truth).Count(x => (string)x.First["label"]! == x.Second) / (double)truth.Count;
        Assert.True(accuracy >= minimum, $"classify accuracy {accuracy}");
    }

    [Fact]
    public void ATinyBertLearnsTheTaskAndClassifyReadsItsDirectory()
    {
        string dir = CliRunner.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "tok"));
        File.WriteAllLines(Path.Combine(dir, "tok", "vocab.txt"), Vocabulary);
        var (run, validation) = Finetune(dir, $"model: {{model_type: bert, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64}}\ntokenizer: {dir}/tok");
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval_results.json")))!;
        Assert.True((double)results["metrics"]!["accuracy"]! >= 0.8, results.ToJsonString());
        Assert.Equal(1, (int)results["truncated_train_examples"]!);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "model", "config.json")))!;
        Assert.Equal("BertForSequenceClassification", (string)config["architectures"]![0]!);
        Assert.Equal("neg", (string)config["id2label"]!["0"]!);
        Assert.Equal(1, (int)config["label2id"]!["pos"]!);
        Assert.True(File.Exists(Path.Combine(run, "model", "vocab.txt")));
        Assert.Contains("Confusion matrix", File.ReadAllText(Path.Combine(run, "report.html")));
        CheckClassify(Path.Combine(run, "model"), validation, 0.8);

        // --output writes the same lines to a file and exits 0 (it once committed the file, then failed
        // with "Cannot access a closed file" when the writer was disposed after the commit).
        string file = Path.Combine(dir, "predictions.jsonl");
        var (code, stdout, console) = CliRunner.Run("classify", "--model", Path.Combine(run, "model"), "--input", validation, "--batch-size", "5");
        var (fileCode, fileStdout, fileConsole) = CliRunner.Run("classify", "--model", Path.Combine(run, "model"), "--input", validation, "--batch-size", "5", "--output", file);
        Assert.True(code == 0 && fileCode == 0, console + fileConsole);
        Assert.DoesNotContain("   at ", fileConsole);
        Assert.DoesNotContain("error", fileConsole);
        Assert.Equal("", fileStdout.Trim());
        Assert.Equal(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), File.ReadAllLines(file));
    }

    [Fact]
    public void ATinyGpt2LearnsTheTaskWithEndOfTextAsPadding()
    {
        string dir = CliRunner.TempDir();
        var (run, validation) = Finetune(dir, "model: {model_type: gpt2, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 2}\ntokenizer: gpt2");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "model", "config.json")))!;
        Assert.Equal("GPT2ForSequenceClassification", (string)config["architectures"]![0]!);
        Assert.Equal(50256, (int)config["pad_token_id"]!);
        Assert.True(File.Exists(Path.Combine(run, "model", "tokenizer.json")));
        CheckClassify(Path.Combine(run, "model"), validation, 0.8);
    }

    [Fact]
    public void ClassifyRefusesABlankOrMalformedLineNamingIt()
    {
        string dir = CliRunner.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "tok"));
        File.WriteAllLines(Path.Combine(dir, "tok", "vocab.txt"), Vocabulary);
        var (run, _) = Finetune(dir, $"model: {{model_type: bert, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64}}\ntokenizer: {dir}/tok");
        string input = Path.Combine(dir, "in.jsonl");
        foreach (var (content, where, words) in new[]
                 {
                     ("{\"text\": \"good\"}\n\n{\"text\": \"bad\"}\n", "in.jsonl:2", "blank line"),
                     ("{\"text\": \"good\"}\n{\"review\": \"bad\"}\n", "in.jsonl:2", "\"text\" is missing"),
                     ("{\"text\": \"good\"}\n[1, 2]\n", "in.jsonl:2", "not an object"),
                 })
        {
            File.WriteAllText(input, content);
            var (code, _, console) = CliRunner.Run("classify", "--model", Path.Combine(run, "model"), "--input", input);
            Assert.Equal(1, code);
            Assert.Contains(where, console);
            Assert.Contains(words, console);
            Assert.DoesNotContain("   at ", console);
        }
        var (c0, _, c1) = CliRunner.Run("classify", "--model", Path.Combine(run, "model"), "--input", input, "--batch-size", "0");
        Assert.Equal(1, c0);
        Assert.Contains("--batch-size is 0", c1);
    }
}
