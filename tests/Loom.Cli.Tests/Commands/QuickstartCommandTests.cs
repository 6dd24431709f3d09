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
    }
}
