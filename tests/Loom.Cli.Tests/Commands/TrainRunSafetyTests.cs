using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

// `loom train` and `loom quickstart` against bad input: each case is an expected error (exit 1) naming the
// option or field as the user wrote it, and no run is ever destroyed or mixed with another.
public class TrainRunSafetyTests
{
    private static string Yaml(string dir, string data, int steps = 4) => $"""
        output: {dir}/run
        data: [{data}]
        tokenizer: gpt2
        model: {"{"}n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2{"}"}
        train:
          batch_size: 2
          sequence_length: 16
          max_steps: {steps}
          warmup_steps: 1
          eval_every: 2
          eval_batches: 1
          checkpoint_every: 2
        """;

    private static (string Dir, string Yaml, string Data) Setup(int steps = 4)
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "text.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 40)));
        string yaml = Path.Combine(dir, "train.yaml");
        File.WriteAllText(yaml, Yaml(dir, data, steps));
        return (dir, yaml, data);
    }

    private static void AssertInputError((int Code, string Output, string Console) r, params string[] words)
    {
        Assert.True(r.Code == 1, r.Console);
        foreach (var w in words) Assert.Contains(w, r.Console);
        Assert.DoesNotContain("   at ", r.Console);
        Assert.DoesNotContain("internal error", r.Console);
    }

    private static long[] TrainSteps(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "train").Select(e => e.GetProperty("step").GetInt64()).ToArray();

    [Fact]
    public void AFreshRunIntoAnExistingRunRefusesThenOverwriteReplacesIt()
    {
        var (dir, yaml, _) = Setup();
        var first = CliRunner.Run("train", "--config", yaml);
        Assert.True(first.Code == 0, first.Console);
        string run = Path.Combine(dir, "run");
        byte[] metrics = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));
        var checkpoints = Directory.GetDirectories(Path.Combine(run, "checkpoints")).Order().ToArray();

        AssertInputError(CliRunner.Run("train", "--config", yaml), "--resume", "--overwrite", run);
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(run, "metrics.jsonl")));        // nothing lost
        Assert.Equal(checkpoints, Directory.GetDirectories(Path.Combine(run, "checkpoints")).Order().ToArray());

        AssertInputError(CliRunner.Run("train", "--config", yaml, "--resume", "--overwrite"), "--resume", "--overwrite");

        var again = CliRunner.Run("train", "--config", yaml, "--overwrite", "--set", "train.max_steps=3", "--set", "train.checkpoint_every=0");
        Assert.True(again.Code == 0, again.Console);
        Assert.Equal([1L, 2, 3], TrainSteps(run));    // the new run alone, not mixed with the old one
        Assert.Equal(["step_000003"], Directory.GetDirectories(Path.Combine(run, "checkpoints")).Select(Path.GetFileName));
    }

    [Fact]
    public void AResumeInPlaceLeavesEachStepOnceAndMayChangeTheStepCount()
    {
        var (dir, yaml, _) = Setup();
        Assert.Equal(0, CliRunner.Run("train", "--config", yaml).Code);
        string run = Path.Combine(dir, "run");
        var resumed = CliRunner.Run("train", "--config", yaml, "--resume", Path.Combine(run, "checkpoints", "step_000002"));
        Assert.True(resumed.Code == 0, resumed.Console);
        Assert.Equal([1L, 2, 3, 4], TrainSteps(run));
        // Settings that may change on resume still can; the latest checkpoint is step 4.
        var longer = CliRunner.Run("train", "--config", yaml, "--resume", "--set", "train.max_steps=6", "--set", "train.eval_every=3");
        Assert.True(longer.Code == 0, longer.Console);
        Assert.Equal([1L, 2, 3, 4, 5, 6], TrainSteps(run));
    }

    [Fact]
    public void AResumeThatChangesDataOrShapesIsRefusedNamingBothValues()
    {
        var (dir, yaml, data) = Setup(steps: 2);
        Assert.Equal(0, CliRunner.Run("train", "--config", yaml).Code);
        string run = Path.Combine(dir, "run");
        string at2 = Path.Combine(run, "checkpoints", "step_000002");
        byte[] config = File.ReadAllBytes(Path.Combine(run, "train_config.json"));
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--resume", at2, "--set", "train.batch_size=3"), "train.batch_size was 2 and is now 3");
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--resume", at2, "--set", "validation_fraction=0.2"), "validation_fraction was 0.1 and is now 0.2");
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--resume", at2, "--set", "model.n_layer=2"), "model.n_layer is 1 in the checkpoint and 2");
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--resume", at2, "--set", "tokenizer=p50k_base"), "tokenizer (fingerprint) was");
        File.AppendAllText(data, "One more line changes the data.\n");
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--resume", at2), "data file " + data + " was ", "bytes");
        Assert.Equal(config, File.ReadAllBytes(Path.Combine(run, "train_config.json")));   // a refused resume changes nothing
    }

    [Theory]
    [InlineData("train.max_steps=0", "train.max_steps is 0")]
    [InlineData("train.eval_every=0", "train.eval_every is 0")]
    [InlineData("train.gradient_accumulation=0", "train.gradient_accumulation is 0")]
    [InlineData("train.checkpoint_every=-1", "train.checkpoint_every is -1")]
    [InlineData("train.batch_size=0", "train.batch_size is 0")]
    [InlineData("train.learning_rate=NaN", "train.learning_rate is NaN")]
    [InlineData("train.learning_rate=-0.001", "train.learning_rate is -0.001")]
    [InlineData("validation_fraction=0", "validation_fraction is 0")]
    [InlineData("validation_fraction=1", "validation_fraction is 1")]
    [InlineData("validation_fraction=-0.5", "validation_fraction is -0.5")]
    [InlineData("model.layer_norm_epsilon=-1", "model.layer_norm_epsilon is -1")]
    [InlineData("model.layer_norm_epsilon=NaN", "model.layer_norm_epsilon is NaN")]
    [InlineData("model.n_layer=0", "model.n_layer is 0")]
    [InlineData("model.n_embd=15", "model.n_embd is 15")]
    [InlineData("model.vocab_size=-5", "model.vocab_size is -5")]
    [InlineData("model.n_positions=0", "model.n_positions is 0")]
    public void ABadSettingIsNamedAsWrittenWithItsValue(string set, string expected)
    {
        var (_, yaml, _) = Setup();
        var r = CliRunner.Run("train", "--config", yaml, "--set", set);
        AssertInputError(r, expected);
        Assert.DoesNotContain("TrainOptions {", r.Console);   // never a dump of the options record
        Assert.DoesNotContain("Config {", r.Console);
    }

    [Fact]
    public void ASetErrorIsBlamedOnTheSetArgument()
    {
        var (_, yaml, _) = Setup();
        var r = CliRunner.Run("train", "--config", yaml, "--set", "train.batch_size=abc");
        AssertInputError(r, "--set \"train.batch_size=abc\"", "train.batch_size", "whole number");
        Assert.DoesNotContain(yaml, r.Console);
        Assert.DoesNotContain("LineNumber", r.Console);
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--set", "train.batch_sise=3"), "--set \"train.batch_sise=3\"", "train.batch_sise is not a setting");
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--set", "max_steps"), "--set \"max_steps\"", "key=value");
    }

    [Theory]
    [InlineData("data: [a.txt, b.txt\nseed: 3\n", ":1:")]   // once "Operation is not valid due to the current state of the object"
    [InlineData("train:\n  max_steps: [1, 2\n", ":")]
    [InlineData("train:\n\tmax_steps: 3\n", ":2:")]
    [InlineData("output: 'unclosed\n", ":")]
    public void InvalidYamlIsReportedAtFileLineColumn(string text, string position)
    {
        string dir = CliRunner.TempDir();
        string yaml = Path.Combine(dir, "bad.yaml");
        File.WriteAllText(yaml, text);
        var r = CliRunner.Run("train", "--config", yaml);
        AssertInputError(r, yaml + position);
        Assert.DoesNotContain("Operation is not valid", r.Console);
        Assert.Matches(System.Text.RegularExpressions.Regex.Escape(yaml) + @":\d+:\d+: ", r.Console);
    }

    [Theory]
    [InlineData("- a\n- b\n", "a list")]
    [InlineData("just text\n", "a single value")]
    public void AYamlWhoseTopLevelIsNotAMappingIsRefused(string text, string what)
    {
        string dir = CliRunner.TempDir();
        string yaml = Path.Combine(dir, "top.yaml");
        File.WriteAllText(yaml, text);
        AssertInputError(CliRunner.Run("train", "--config", yaml), yaml, what, "mapping of settings");
    }

    [Fact]
    public void AbsurdSizesAreRefusedWithPlannedAndAvailableMemory()
    {
        var (_, yaml, _) = Setup();
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--set", "model.vocab_size=2000000000", "--set", "model.n_embd=4096"),
            "model.vocab_size (now 2,000,000,000)", " GB", "this machine has");
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--set", "train.batch_size=100000000", "--set", "model.n_positions=1024", "--set", "train.sequence_length=1024"),
            "train.batch_size (now 100,000,000)", " GB");
    }

    [Fact]
    public void AModelDirectoryThatDoesNotExistIsReportedSo()
    {
        string missing = Path.Combine(CliRunner.TempDir(), "no-such-model");
        var r = CliRunner.Run("generate", "--model", missing, "--prompt", "hi");
        AssertInputError(r, "does not exist", missing);
        Assert.DoesNotContain("config.json", r.Console);
        var (dir, yaml, _) = Setup();
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--set", "init_from=" + missing), "does not exist");
    }

    [Fact]
    public void InitFromWithABrokenConfigNamesTheFile()
    {
        var (dir, yaml, _) = Setup();
        string model = Path.Combine(dir, "model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "config.json"), "[1, 2]");
        AssertInputError(CliRunner.Run("train", "--config", yaml, "--set", "init_from=" + model), Path.Combine(model, "config.json"), "not a model configuration");
    }

    [Fact]
    public void QuickstartIntoAnExistingRunRefuses()
    {
        string dir = CliRunner.TempDir();
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), "{\"type\": \"train\", \"step\": 1}\n");
        AssertInputError(CliRunner.Run("quickstart", "--steps", "1", "--output", dir), "--resume", "--overwrite");
        Assert.Single(File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")));
    }
}
