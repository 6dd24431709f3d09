// Regressions from an adversarial pass over the merged CLI: each case failed (data loss, crash, hang or
// a wrong exit 0) before its fix.
namespace Loom.Cli.Tests.Commands;

public class HostileInputTests
{
    private static string Config(string output, string data, string extra = "") => $"""
        output: {output}
        data: [{data}]
        tokenizer: gpt2
        model: {"{"}n_positions: 16, n_embd: 32, n_layer: 1, n_head: 2{"}"}
        train: {"{"}batch_size: 2, sequence_length: 16, max_steps: 4, warmup_steps: 1, eval_every: 2, eval_batches: 1, checkpoint_every: 2{"}"}
        {extra}
        """;

    private static (string Dir, string Yaml, string Run) FinishedRun()
    {
        string dir = CliRunner.TempDir(), data = Path.Combine(dir, "text.txt"), yaml = Path.Combine(dir, "t.yaml"), run = Path.Combine(dir, "run");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        File.WriteAllText(yaml, Config(run, data));
        var (code, _, console) = CliRunner.Run("train", "--config", yaml);
        Assert.True(code == 0, console);
        return (dir, yaml, run);
    }

    [Fact]
    public void OverwriteDeletesNothingWhenTheNewRunsDataOrShapesAreBad()
    {
        var (dir, _, run) = FinishedRun();
        var before = Directory.GetFileSystemEntries(run, "*", SearchOption.AllDirectories).Order().ToArray();
        string bad = Path.Combine(dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"text\": \"fine\"}\n{\"text\": 5}\n");
        string badYaml = Path.Combine(dir, "bad.yaml");
        File.WriteAllText(badYaml, Config(run, bad));
        var (code, _, console) = CliRunner.Run("train", "--config", badYaml, "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:2", console);
        (code, _, console) = CliRunner.Run("train", "--config", Path.Combine(dir, "t.yaml"), "--overwrite", "--set", "train.sequence_length=64");
        Assert.Equal(1, code);
        Assert.Contains("train.sequence_length", console);
        Assert.Equal(before, Directory.GetFileSystemEntries(run, "*", SearchOption.AllDirectories).Order().ToArray());
    }

    [Fact]
    public void OverwriteRefusesToDeleteWhatTheRunReads()
    {
        var (dir, _, run) = FinishedRun();
        string yaml = Path.Combine(dir, "ft.yaml");
        File.WriteAllText(yaml, Config(run, Path.Combine(dir, "text.txt"), $"init_from: {run}"));
        var (code, _, console) = CliRunner.Run("train", "--config", yaml, "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains("--overwrite would delete", console);
        Assert.True(File.Exists(Path.Combine(run, "model.safetensors")));
    }

    [Fact]
    public void ResumingPastMaxStepsOrFromADamagedStateIsRefused()
    {
        var (_, yaml, run) = FinishedRun();
        var (code, _, console) = CliRunner.Run("train", "--config", yaml, "--resume", "--set", "train.max_steps=2");
        Assert.Equal(1, code);
        Assert.Contains("train.max_steps is 2", console);
        string state = Path.Combine(run, "checkpoints", "step_000004", "state.json");
        File.WriteAllText(state, File.ReadAllText(state).Replace("\"Step\": 4", "\"Step\": -5"));
        (code, _, console) = CliRunner.Run("train", "--config", yaml, "--resume", "--set", "train.max_steps=6");
        Assert.Equal(1, code);
        Assert.Contains("is damaged", console);
    }

    [Theory]
    [InlineData("a: &x [*x]\n", "refers to itself")]
    [InlineData("train: ~\n", "train is empty")]
    [InlineData("output: a\n---\noutput: b\n", "2 YAML documents")]
    public void HostileYamlIsAnExpectedError(string yaml, string message)
    {
        string file = Path.Combine(CliRunner.TempDir(), "c.yaml");
        File.WriteAllText(file, yaml);
        var (code, _, console) = CliRunner.Run("train", "--config", file);
        Assert.Equal(1, code);
        Assert.Contains(message, console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void SetModelNullIsAnExpectedError()
    {
        var (code, _, console) = CliRunner.Run("train", "--set", "model=null");
        Assert.Equal(1, code);
        Assert.Contains("model is empty", console);
    }

    [Theory]
    [InlineData("dedup: {minhash: {bands: 65536, rows: 65536}}\n", "bands × rows")]
    [InlineData("dedup: {minhash: {bands: 100000000, rows: 100000000}}\n", "bands × rows")]
    public void AbsurdMinHashSettingsAreRefused(string yaml, string message)
    {
        string dir = CliRunner.TempDir(), config = Path.Combine(dir, "p.yaml"), input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(config, yaml);
        File.WriteAllText(input, "{\"text\": \"one two three four five six seven eight nine ten\"}\n");
        var (code, _, console) = CliRunner.Run("data", "curate", "--input", input, "--output", Path.Combine(dir, "out"), "--config", config);
        Assert.Equal(1, code);
        Assert.Contains(message, console);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("100000")]
    public void CurateThreadsAreBounded(string threads)
    {
        string dir = CliRunner.TempDir(), input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"one two three\"}\n");
        var (code, _, console) = CliRunner.Run("data", "curate", "--input", input, "--output", Path.Combine(dir, "out"), "--threads", threads);
        Assert.Equal(1, code);
        Assert.Contains("--threads must be from 1 to 256", console);
    }

    [Fact]
    public async Task AFifoInsideAModelOrTokenizerFolderIsAnErrorNotAHang()
    {
        if (OperatingSystem.IsWindows()) return;
        string dir = CliRunner.TempDir(), model = Path.Combine(dir, "m"), tok = Path.Combine(dir, "t"), input = Path.Combine(dir, "in.jsonl");
        Directory.CreateDirectory(model);
        Directory.CreateDirectory(tok);
        File.WriteAllText(input, "{\"text\": \"hi\"}\n");
        foreach (var fifo in new[] { Path.Combine(model, "config.json"), Path.Combine(tok, "tokenizer.json") })
            using (var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mkfifo", [fifo]))!) p.WaitForExit();
        foreach (var args in new[] { new[] { "generate", "--model", model, "--prompt", "hi" }, ["tokenizer", "encode", "--tokenizer", tok, "--input", input] })
        {
            var (code, _, console) = await Task.Run(() => CliRunner.Run(args)).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(1, code);
            Assert.Contains("FIFO", console);
        }
    }

    [Fact]
    public void ADataFileListedTwiceIsRefused()
    {
        // Regression: data: [a, a] read the text twice, so the validation text also trained; no warning.
        string dir = CliRunner.TempDir(), data = Path.Combine(dir, "text.txt"), yaml = Path.Combine(dir, "t.yaml");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        File.WriteAllText(yaml, Config(Path.Combine(dir, "run"), $"{data}, {Path.Combine(dir, ".", "text.txt")}"));
        var (code, _, console) = CliRunner.Run("train", "--config", yaml);
        Assert.Equal(1, code);
        Assert.Contains("twice", console);
        Assert.Contains("text.txt", console);
        Assert.DoesNotContain("   at ", console);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }

    [Theory]
    [InlineData("stages: [gopher_quality: {min_words: -1}]", "gopher_quality.min_words is -1")]
    [InlineData("stages: [gopher_quality: {max_bullet_lines: 1.5}]", "gopher_quality.max_bullet_lines is 1.5")]
    [InlineData("stages: [c4_quality: {max_word_length: 0}]", "c4_quality.max_word_length is 0")]
    [InlineData("stages: [gopher_repetition: {top_n_gram_fractions: [0.2]}]", "gopher_repetition.top_n_gram_fractions holds 1 value(s); it must hold exactly 3")]
    [InlineData("stages: [gopher_repetition: {duplicate_n_gram_fractions: [0.1, 0.1, 0.1, 0.1, 0.1, -0.1]}]", "gopher_repetition.duplicate_n_gram_fractions[5] is -0.1")]
    [InlineData("stages: [toxicity: {threshold: -1}]", "toxicity.threshold is -1")]
    [InlineData("stages: [toxicity: {threshold: -1, min_matches: -1}]", "toxicity.threshold is -1")]   // crashed with "Value cannot be null. (Parameter 'source')"
    [InlineData("stages: [toxicity: {min_matches: 0}]", "toxicity.min_matches is 0")]
    [InlineData("stages: [language: {min_confidence: 2}]", "language.min_confidence is 2")]
    [InlineData("stages: [language: {languages: []}]", "language.languages must list at least one")]
    public void CurationStageOptionsAreRangeChecked(string yaml, string message)
    {
        // Regression: out-of-range stage options were accepted (min_words -1, a one-element n-gram list that
        // silently switched n = 3, 4 off), and both toxicity values negative crashed the report.
        string dir = CliRunner.TempDir(), config = Path.Combine(dir, "p.yaml"), input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(config, yaml);
        File.WriteAllText(input, "{\"text\": \"one two three four five six seven eight nine ten\"}\n");
        var (code, _, console) = CliRunner.Run("data", "curate", "--input", input, "--output", Path.Combine(dir, "out"), "--config", config);
        Assert.Equal(1, code);
        Assert.Contains(message, console);
        Assert.DoesNotContain("   at ", console);
        Assert.DoesNotContain("Parameter", console);
    }

    [Theory]
    [InlineData("model.n_layer=1.5", "model.n_layer is 1.5; it must be a whole number")]
    [InlineData("train.max_steps=99999999999", "train.max_steps is 99999999999; it must be a whole number from -2,147,483,648 to 2,147,483,647")]
    [InlineData("output=~", "~ means null")]
    [InlineData("model={\"model_type\": \"llama\", \"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 64, \"max_position_embeddings\": 16, \"hidden_act\": \"gelu\"}",
        "model.hidden_act is \"gelu\": Loom's Llama computes the SiLU MLP only")]
    [InlineData("model={\"model_type\": \"llama\", \"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 64, \"max_position_embeddings\": 16, \"head_dim\": 8}",
        "model.head_dim is 8, but Loom's Llama needs hidden_size / num_attention_heads (32 / 2 = 16)")]
    public void SettingsAreNamedInTheUsersWordsNotDotNets(string set, string message)
    {
        // Regressions: .NET's "could not be converted to System.Int32"; --set output=~ trained into a folder named "~";
        // Llama silently ignored hidden_act and head_dim.
        string dir = CliRunner.TempDir(), data = Path.Combine(dir, "text.txt"), yaml = Path.Combine(dir, "t.yaml");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 80)));
        File.WriteAllText(yaml, Config(Path.Combine(dir, "run"), data));
        var (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", set);
        Assert.Equal(1, code);
        Assert.Contains(message, console);
        Assert.DoesNotContain("System.", console);
        Assert.DoesNotContain("   at ", console);
        Assert.False(Directory.Exists(Path.Combine(Environment.CurrentDirectory, "~", "checkpoints")));
    }

    [Fact]
    public void SetAcceptsAYamlFlowList()
    {
        // Regression: --set data=[a, b] was read as the string "[a, b]"; only the JSON form ["a", "b"] worked.
        string dir = CliRunner.TempDir(), a = Path.Combine(dir, "a.txt"), b = Path.Combine(dir, "b.txt"), yaml = Path.Combine(dir, "t.yaml");
        File.WriteAllText(a, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 40)));
        File.WriteAllText(b, string.Concat(Enumerable.Repeat("It was the age of wisdom, it was the age of foolishness.\n", 40)));
        File.WriteAllText(yaml, Config(Path.Combine(dir, "run"), a));
        var (code, _, console) = CliRunner.Run("train", "--config", yaml, "--set", $"data=[{a}, {b}]", "--set", "train.max_steps=1");
        Assert.True(code == 0, console);
        string saved = File.ReadAllText(Path.Combine(dir, "run", "train_config.json"));
        Assert.Contains("b.txt", saved);
    }

    [Fact]
    public void GenerateNamesTheStopOptionAsTyped()
    {
        var (_, _, run) = FinishedRun();
        var (code, _, console) = CliRunner.Run("generate", "--model", run, "--prompt", "It was", "--stop", "");
        Assert.Equal(1, code);
        Assert.Contains("--stop must not contain an empty string", console);
        Assert.DoesNotContain("--stop-sequences", console);
        Assert.DoesNotContain("Parameter", console);
    }

    [Fact]
    public void ShardTokensBelowADocumentsLengthIsReported()
    {
        // Regression: --shard-tokens 1 was silently ignored (a shard ends only at a document's end).
        string dir = CliRunner.TempDir(), data = Path.Combine(dir, "text.txt");
        File.WriteAllText(data, string.Concat(Enumerable.Repeat("It was the best of times, it was the worst of times.\n", 20)));
        var (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", data, "--output", Path.Combine(dir, "shards"), "--shard-tokens", "1");
        Assert.True(code == 0, console);
        Assert.Contains("hold more than --shard-tokens 1 tokens", console);
        Assert.Contains("end of a document", console);
    }
}
