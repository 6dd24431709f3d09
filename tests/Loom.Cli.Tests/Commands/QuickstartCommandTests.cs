using System.Text.Json;
using System.Text.RegularExpressions;

namespace Loom.Cli.Tests.Commands;

public class QuickstartCommandTests
{
    private static string Squash(string s) => Regex.Replace(s, @"\s+", " ").Trim();

    [Fact]
    public void RunsEndToEndAndItsFiguresAndSampleComeFromTheSavedRun()
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("quickstart", "--steps", "8", "--minutes", "1", "--output", dir);
        Assert.True(code == 0, console);
        foreach (var f in new[] { "report.html", "metrics.jsonl", "model.safetensors", "config.json", "tokenizer.json", "options.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);

        // The printed validation loss is the last evaluation the run logged, and the log holds steps 1..8 once each.
        var printed = Regex.Match(console, @"trained (\d+) steps .*validation loss (\d+\.\d+)");
        Assert.True(printed.Success, console);
        var records = File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(1, 8), records.Where(r => r.GetProperty("type").GetString() == "train").Select(r => r.GetProperty("step").GetInt32()));
        var evals = records.Where(r => r.GetProperty("type").GetString() == "eval").ToList();
        Assert.Equal(8, int.Parse(printed.Groups[1].Value));
        Assert.Equal(evals[^1].GetProperty("val_loss").GetDouble(), double.Parse(printed.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 3);
        // Eight steps of training lower the validation loss below where it started.
        Assert.True(evals[^1].GetProperty("val_loss").GetDouble() < evals[0].GetProperty("val_loss").GetDouble(), string.Join("\n", evals));

        // The sample is what `loom generate` produces from the saved model directory with the same settings.
        int from = console.IndexOf("4/4 sample", StringComparison.Ordinal), to = console.LastIndexOf("wrote ", StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, console);
        string sample = console[(console.IndexOf('\n', from) + 1)..to];
        Assert.StartsWith("ROMEO:", sample);
        var (genCode, continuation, genConsole) = CliRunner.Run("generate", "--model", dir, "--prompt", "ROMEO:", "--max-new-tokens", "120",
            "--temperature", "0.8", "--top-k", "40", "--seed", "1337");
        Assert.True(genCode == 0, genConsole);
        Assert.True(Squash(continuation).Length > 0);
        Assert.Equal(Squash("ROMEO:" + continuation), Squash(sample));

        // --steps fixes the schedule's length (no fitting to the budget).
        var train = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "options.json"))).RootElement.GetProperty("train");
        Assert.False(train.GetProperty("FitScheduleToTimeBudget").GetBoolean());
        Assert.Equal(8, train.GetProperty("MaxSteps").GetInt32());
    }

    [Fact]
    public void TheDefaultRecipeFitsItsScheduleToTheBudgetAndSetOverridesIt()
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("quickstart", "--minutes", "1", "--set", "train.max_steps=3", "--set", "train.learning_rate=3e-3", "--output", dir);
        Assert.True(code == 0, console);
        Assert.Contains("as many steps as fit in 1 min", console);
        var train = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "options.json"))).RootElement.GetProperty("train");
        Assert.True(train.GetProperty("FitScheduleToTimeBudget").GetBoolean());
        Assert.Equal(60.0, train.GetProperty("TimeBudgetSeconds").GetDouble());
        Assert.Equal(3, train.GetProperty("MaxSteps").GetInt32());                 // --set: a cap on the fitted schedule
        Assert.Equal(3e-3, train.GetProperty("LearningRate").GetDouble(), 6);
        Assert.Equal("linear", train.GetProperty("Schedule").GetString());
        // The validation measure every quickstart figure in docs/PERFORMANCE.md was taken with: 8 batches of 16 × 128.
        Assert.Equal(16, train.GetProperty("BatchSize").GetInt32());
        Assert.Equal(128, train.GetProperty("SequenceLength").GetInt32());
        Assert.Equal(8, train.GetProperty("EvalBatches").GetInt32());
        var records = File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, records.Count(r => r.GetProperty("type").GetString() == "train"));
    }

    [Theory]
    [InlineData("train.adam_beta=0.9", "train.adam_beta is not a setting")]
    [InlineData("model.vocab_size=2048", "model.vocab_size is 2048")]
    [InlineData("model.n_head=5", "model.n_embd is 192")]
    [InlineData("train.sequence_length=256", "train.sequence_length is 256; it must be at most model.n_positions (128)")]
    public void BadSettingsFailBeforeTheTokenizerIsTrained(string assignment, string message)
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("quickstart", "--set", assignment, "--output", dir);
        Assert.Equal(1, code);
        Assert.Contains(message, console);
        Assert.DoesNotContain("1/4 tokenizer", console);
    }
}
