// `loom explain` end to end on a saved tiny BERT classifier (both methods, files and stdout) and its
// one-line errors.
using System.Text.Json.Nodes;
using Loom.Models.Bert;
using Loom.Models.Classification;

namespace Loom.Cli.Tests.Commands;

public class ExplainCommandTests
{
    private static string SavedBert()
    {
        string dir = CliRunner.TempDir();
        var config = new BertConfig { VocabSize = 24, HiddenSize = 16, Layers = 1, Heads = 2, IntermediateSize = 32, MaxPositions = 32 };
        using (var model = SequenceClassifiers.Create(config, new SequenceClassifierOptions { Labels = ["neg", "pos"], PadTokenId = 0, Seed = 5 }))
            model.Save(dir);
        string[] vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "great", "good", "awful", "bad", "plot", "and", "a", "very", "film", "it", "is", "not", "dull", "fun", "long", "short"];
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), vocab);
        return dir;
    }

    [Fact]
    public void LimeAndIntegratedGradientsWriteJsonAndHtml()
    {
        string model = SavedBert(), output = CliRunner.TempDir();
        var (code, stdout, console) = CliRunner.Run("explain", "--model", model, "--text", "the movie was great fun", "--method", "lime", "--samples", "200", "--features", "3", "--output", Path.Combine(output, "lime"));
        Assert.True(code == 0, console + stdout);
        var lime = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "lime", "explanation.json")))!;
        Assert.Equal("lime", (string)lime["method"]!);
        Assert.Equal(["neg", "pos"], lime["classes"]!.AsArray().Select(c => (string)c!["label"]!));
        Assert.Equal(3, lime["classes"]![0]!["top"]!.AsArray().Count);
        Assert.Contains("<!DOCTYPE html>", File.ReadAllText(Path.Combine(output, "lime", "explanation.html")));

        (code, stdout, console) = CliRunner.Run("explain", "--model", model, "--text", "the movie was great fun", "--method", "ig", "--steps", "32");
        Assert.True(code == 0, console + stdout);
        var ig = JsonNode.Parse(stdout)!;
        Assert.Equal("integrated_gradients", (string)ig["method"]!);
        Assert.Equal(["[CLS]", "the", "movie", "was", "great", "fun", "[SEP]"], ig["segments"]!.AsArray().Select(s => (string)s!));
        Assert.True((double)ig["details"]!["completeness_error"]! < 0.01);
    }

    [Theory]
    [InlineData("--method", "shap", "--method")]
    [InlineData("--endpoint", "http://127.0.0.1:9/v1", "exactly one of --model")]
    [InlineData("--samples", "1", "--samples")]
    public void BadInputIsOneLine(string option, string value, string expected)
    {
        string model = SavedBert();
        var (code, _, console) = CliRunner.Run("explain", "--model", model, "--text", "the movie", option, value);
        Assert.Equal(1, code);
        Assert.Contains(expected, console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void IntegratedGradientsRefusesAnEndpoint()
    {
        var (code, _, console) = CliRunner.Run("explain", "--endpoint", "http://127.0.0.1:9/v1", "--labels", "a,b", "--text", "x y", "--method", "ig");
        Assert.Equal(1, code);
        Assert.Contains("--method ig needs the model's gradients", console);
    }
}
