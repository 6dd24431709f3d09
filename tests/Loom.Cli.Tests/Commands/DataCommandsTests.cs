using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

public class DataCommandsTests
{
    private static string Sample()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "data", "samples", "curation", "sample.jsonl");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("data/samples/curation/sample.jsonl not found above the test directory.");
    }

    [Fact]
    public void CuratesTheShippedSampleWithTheDefaultPipeline()
    {
        string output = Path.Combine(CliRunner.TempDir(), "curated");
        var (code, _, console) = CliRunner.Run("data", "curate", "--input", Sample(), "--output", output);
        Assert.True(code == 0, console);
        Assert.Contains("kept", console);
        var removed = File.ReadAllLines(Path.Combine(output, "removed.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("_stage").GetString());
        Assert.Equal("exact_dedup", removed["copy-exact"]);
        Assert.Equal("near_dedup", removed["copy-near"]);
        Assert.Equal("gopher_quality", removed["short"]);
        string kept = File.ReadAllText(Path.Combine(output, "kept.jsonl"));
        Assert.Contains("<EMAIL_ADDRESS>", kept);
        Assert.Contains("<CREDIT_CARD>", kept);
        Assert.Contains("broken", File.ReadAllText(Path.Combine(output, "quarantine.jsonl")));
        Assert.True(File.Exists(Path.Combine(output, "report.html")));

        // Sharded: map two slices separately, then merge: the same kept file.
        string sharded = Path.Combine(CliRunner.TempDir(), "sharded");
        for (int i = 0; i < 2; i++)
        {
            (code, _, console) = CliRunner.Run("data", "curate", "--input", Sample(), "--output", sharded, "--shard", $"{i}/2");
            Assert.True(code == 0, console);
            Assert.Contains("dedup-merge", console);
        }
        (code, _, console) = CliRunner.Run("data", "dedup-merge", "--output", sharded);
        Assert.True(code == 0, console);
        Assert.Equal(File.ReadAllText(Path.Combine(output, "kept.jsonl")), File.ReadAllText(Path.Combine(sharded, "kept.jsonl")));
    }

    [Fact]
    public void BadInputsAndPipelinesAreReported()
    {
        string dir = CliRunner.TempDir();
        var (code, _, console) = CliRunner.Run("data", "curate", "--input", Path.Combine(dir, "missing.jsonl"), "--output", Path.Combine(dir, "o"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", console);
        File.WriteAllText(Path.Combine(dir, "p.yaml"), "stages:\n  - gopher_quality: {min_wordz: 3}\n");
        File.WriteAllText(Path.Combine(dir, "a.txt"), "text");
        (code, _, console) = CliRunner.Run("data", "curate", "--input", Path.Combine(dir, "a.txt"), "--output", Path.Combine(dir, "o"), "--config", Path.Combine(dir, "p.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("min_wordz", console);
        (code, _, console) = CliRunner.Run("data", "curate", "--input", Path.Combine(dir, "a.txt"), "--output", Path.Combine(dir, "o2"), "--shard", "3/2");
        Assert.Equal(1, code);
        Assert.Contains("--shard", console);
    }

    // A pipeline file chooses the stages, their options and the de-duplication: here no C4, toxicity or
    // repetition stage, only e-mail redaction, and no near dedup, so the near copy stays.
    [Fact]
    public void APipelineFileChoosesStagesOptionsAndDedup()
    {
        string dir = CliRunner.TempDir();
        string yaml = Path.Combine(dir, "pipeline.yaml");
        File.WriteAllText(yaml, """
            stages:
              - normalize: {unicode: nfkc, html: true}
              - gopher_quality: {min_words: 10}
              - language: {languages: [en, de], min_confidence: 0.5}
              - pii: {types: [EMAIL_ADDRESS]}
            dedup:
              near: false
              max_sort_megabytes: 64
            """);
        string output = Path.Combine(dir, "out");
        var (code, _, console) = CliRunner.Run("data", "curate", "--input", Sample(), "--output", output, "--config", yaml);
        Assert.True(code == 0, console);
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))).RootElement;
        Assert.Equal(["normalize", "gopher_quality", "language", "pii", "exact_dedup"], report.GetProperty("stages").EnumerateArray().Select(e => e.GetString()!));
        string kept = File.ReadAllText(Path.Combine(output, "kept.jsonl"));
        Assert.Contains("<EMAIL_ADDRESS>", kept);
        Assert.DoesNotContain("<CREDIT_CARD>", kept);
        Assert.Contains("\"copy-near\"", kept);
        Assert.DoesNotContain("\"copy-exact\"", kept);
    }
}
