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
