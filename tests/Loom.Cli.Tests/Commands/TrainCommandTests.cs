using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

public class TrainCommandTests
{
    private static string Config(string dir, string data) => $"""
        output: {dir}/run
        data: [{data}]
        tokenizer: gpt2
        model: {"{"}n_positions: 16, n_embd: 32, n_layer: 1, n_head: 2{"}"}
        train:
          batch_size: 2
          sequence_length: 16
          max_steps: 8
          warmup_steps: 2
          eval_every: 4
          eval_batches: 1
          checkpoint_every: 4
        """;

    [Fact]
    public void TrainsFromYamlWithOverridesAndResumesIdentically()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        string yaml = Path.Combine(dir, "train.yaml");
        File.WriteAllText(yaml, Config(dir, data));

        var (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", "train.learning_rate=0.002");
        Assert.True(code == 0, console);
        Assert.Contains("\"learning_rate\": 0.002", console); // the whole typed config is printed
        string run = Path.Combine(dir, "run");
        foreach (var f in new[] { "model.safetensors", "config.json", "tokenizer.json", "metrics.jsonl", "report.html", "train_config.json" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        var straight = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "train").Select(e => e.GetProperty("loss").GetSingle()).ToArray();
        Assert.Equal(8, straight.Length);

        File.Delete(Path.Combine(run, "metrics.jsonl"));
        (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", "train.learning_rate=0.002", "--resume", Path.Combine(run, "checkpoints", "step_000004"));
        Assert.True(code == 0, console);
        var resumed = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "train").Select(e => e.GetProperty("loss").GetSingle()).ToArray();
        Assert.Equal(straight[4..], resumed);
    }

    [Fact]
    public void AConfigWithoutAModelBlockTakesTheDefaultModelSizedToTheTokenizer()
    {
        // Regression: the built-in model block holds vocab_size 0 as an int, which the "0 means the
        // tokenizer's size" rule once missed, so a config with no model block failed validation.
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        var (code, _, console) = CliRunner.Run("train", "--set", $"output={dir}/run", "--set", $"data=[\"{data}\"]",
            "--set", "train.batch_size=1", "--set", "train.sequence_length=16", "--set", "train.max_steps=1", "--set", "train.eval_batches=1");
        Assert.True(code == 0, console);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "run", "config.json")));
        Assert.Equal(Loom.Tokenizers.TiktokenEncodings.Get("gpt2").VocabularySize, config.RootElement.GetProperty("vocab_size").GetInt32());
    }

    [Fact]
    public void UnknownKeysAndMissingDataAreReported()
    {
        string dir = CliRunner.TempDir();
        string yaml = Path.Combine(dir, "train.yaml");
        File.WriteAllText(yaml, "train:\n  batch_sise: 4\n");
        var (code, _, console) = CliRunner.Run("train", "--config", yaml);
        Assert.Equal(1, code);
        Assert.Contains("batch_sise", console);
        (code, _, console) = CliRunner.Run("train", "--set", "output=" + dir);
        Assert.Equal(1, code);
        Assert.Contains("No training data", console);
    }
}

public class TrainFamiliesTests
{
    [Fact]
    public void TrainsALlamaOnDocumentsInBf16ThenGeneratesAndEvaluates()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "docs.jsonl");
        var rng = new Random(3);
        string[] words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
        File.WriteAllLines(data, Enumerable.Range(0, 60).Select(i =>
            System.Text.Json.JsonSerializer.Serialize(new { text = string.Join(' ', Enumerable.Range(0, rng.Next(3, 25)).Select(_ => words[rng.Next(words.Length)])) + "." })));
        string yaml = Path.Combine(dir, "train.yaml");
        File.WriteAllText(yaml, $"""
            output: {dir}/run
            data: [{data}]
            tokenizer: gpt2
            batching: documents
            bucket_width: 8
            model: {"{"}model_type: llama, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32{"}"}
            train:
              batch_size: 4
              sequence_length: 32
              max_steps: 6
              warmup_steps: 1
              eval_every: 3
              eval_batches: 2
              precision: bf16
            """);
        var (code, _, console) = CliRunner.Run("train", "--config", yaml);
        Assert.True(code == 0, console);
        Assert.Contains("\"model_type\": \"llama\"", console);
        Assert.Contains("\"precision\": \"bf16\"", console);
        Assert.Contains("validation documents", console);
        string run = Path.Combine(dir, "run");
        Assert.Contains("\"llama\"", File.ReadAllText(Path.Combine(run, "config.json")));

        var (gcode, output, gconsole) = CliRunner.Run("generate", "--model", run, "--prompt", "alpha beta", "--max-new-tokens", "5");
        Assert.True(gcode == 0, gconsole);
        Assert.False(string.IsNullOrWhiteSpace(output));

        (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", data, "--output", Path.Combine(dir, "shards"));
        Assert.True(code == 0, console);
        (code, _, console) = CliRunner.Run("eval", "--model", run, "--data", Path.Combine(dir, "shards"), "--batch-size", "2", "--max-batches", "2");
        Assert.True(code == 0, console);
        Assert.Matches(@"loss \d+\.\d+\s+perplexity", console);
    }

    [Fact]
    public void UnknownModelTypesAndBadBatchingAreReported()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "t.txt");
        File.WriteAllText(data, "some text\n\nmore text\n");
        var (code, _, console) = CliRunner.Run("train", "--set", "data=[\"" + data + "\"]", "--set", "model.model_type=mamba", "--set", "output=" + dir);
        Assert.Equal(1, code);
        Assert.Contains("mamba", console);
        Assert.Contains("gpt2, llama", console);
        (code, _, console) = CliRunner.Run("train", "--set", "data=[\"" + data + "\"]", "--set", "batching=packed", "--set", "output=" + dir);
        Assert.Equal(1, code);
        Assert.Contains("\"windows\" or \"documents\"", console);
    }
}
