// `loom augment` end to end with the WordNet subset of the Training tests (copied next to this test's
// output by the project file) and its one-line errors.
using System.Text.Json.Nodes;

namespace Loom.Cli.Tests.Commands;

public class AugmentCommandTests
{
    private static string WordNetDir()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "tests", "Loom.Training.Tests", "Fixtures", "wordnet");
            if (Directory.Exists(p)) return p;
        }
        throw new DirectoryNotFoundException("tests/Loom.Training.Tests/Fixtures/wordnet not found above the test directory.");
    }

    [Fact]
    public void EdaWritesLabelledRecordsWithProvenance()
    {
        string dir = CliRunner.TempDir(), input = Path.Combine(dir, "in.jsonl"), output = Path.Combine(dir, "out.jsonl");
        File.WriteAllLines(input, ["""{"text": "a good movie with wonderful music", "label": "pos"}""", """{"text": "the plot was boring and bad", "label": "neg"}"""]);
        var (code, _, console) = CliRunner.Run("augment", "--method", "eda", "--input", input, "--output", output, "--wordnet", WordNetDir(), "--per-record", "4", "--keep-original", "--seed", "3");
        Assert.True(code == 0, console);
        var records = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.True(records.Count > 2);
        Assert.Equal(records.Count, records.Select(r => (string)r["text"]!).Distinct().Count());
        foreach (var r in records.Where(r => r["augmentation"] != null))
            Assert.Equal((int)r["augmentation"]!["source_line"]! == 1 ? "pos" : "neg", (string)r["label"]!);
        Assert.Contains("written to", console);
    }

    [Fact]
    public void MaskFillsWithTheMaskedLanguageModel()
    {
        // The tiny BERT of the Training tests (make_mask_fill_fixture.py); its fills are checked against PyTorch there.
        string bert = Path.Combine(Path.GetDirectoryName(WordNetDir())!, "mask_fill");
        string dir = CliRunner.TempDir(), input = Path.Combine(dir, "in.jsonl"), output = Path.Combine(dir, "out.jsonl");
        File.WriteAllLines(input, ["""{"text": "this film tells no [MASK] story .", "label": "pos"}""", """{"text": "the plot was dull", "label": "neg"}"""]);
        var (code, _, console) = CliRunner.Run("augment", "--method", "mask", "--model", bert, "--input", input, "--output", output, "--per-record", "3", "--top-k", "3", "--seed", "1");
        Assert.True(code == 0, console);
        var records = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.NotEmpty(records);
        foreach (var r in records)
        {
            Assert.Equal((int)r["augmentation"]!["source_line"]! == 1 ? "pos" : "neg", (string)r["label"]!);
            Assert.Equal("mask", (string)r["augmentation"]!["method"]!);
        }
        Assert.Contains(records, r => ((string)r["text"]!).StartsWith("this film tells no ", StringComparison.Ordinal) && !((string)r["text"]!).Contains("[MASK]"));
    }

    [Theory]
    [InlineData("mask", "needs --model")]
    [InlineData("tfidf", "--method")]
    [InlineData("paraphrase", "needs --endpoint")]
    public void BadInputIsOneLine(string method, string expected)
    {
        string dir = CliRunner.TempDir(), input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"x\"}\n");
        var (code, _, console) = CliRunner.Run("augment", "--method", method, "--input", input, "--output", Path.Combine(dir, "o.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains(expected, console);
        Assert.DoesNotContain("   at ", console);
    }
}
