// examples/moderation/finetune.yaml trains a classifier `loom serve --moderation-model` accepts: run on
// the shipped Davidson sample (data/samples/moderation, 300 train / 90 held-out tweets) with the
// shipped model's tokenizer, one epoch, in seconds; the full run is documented in docs/SAFETY.md.
using System.Text.Json.Nodes;
using Loom.Serving.Guards;

namespace Loom.Cli.Tests.Commands;

public class ModerationExampleTests
{
    private static string Find(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (Path.Combine(d.FullName, relative) is var p && (Directory.Exists(p) || File.Exists(p))) return p;
        throw new DirectoryNotFoundException($"{relative} not found above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public async Task TheExampleConfigTrainsAModerationModelOnTheSample()
    {
        string output = Path.Combine(CliRunner.TempDir(), "moderation");
        string samples = Find(Path.Combine("data", "samples", "moderation"));
        var (code, _, console) = CliRunner.Run("finetune", "--config", Find(Path.Combine("examples", "moderation", "finetune.yaml")),
            "--set", $"output={output}", "--set", $"tokenizer={Find(Path.Combine("examples", "moderation", "model"))}",
            "--set", $"data.train={Path.Combine(samples, "train.jsonl")}", "--set", $"data.validation={Path.Combine(samples, "test.jsonl")}",
            "--set", "train.epochs=1");
        Assert.True(code == 0, console);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "model", "config.json")))!;
        Assert.Equal(["hate", "offensive", "neither"], Enumerable.Range(0, 3).Select(i => (string)config["id2label"]![i.ToString()]!));
        using var moderator = ContentModerator.Open(Path.Combine(output, "model"));
        Assert.Equal(["harassment", "hate"], moderator.Categories);
        var verdict = Assert.Single(await moderator.ModerateAsync(["have a nice day"]));
        Assert.InRange(verdict.Scores["hate"] + verdict.Scores["harassment"], 0, 1 + 1e-9);
    }
}
