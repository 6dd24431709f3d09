// `loom eval metrics --metric bertscore` end to end. BertScore itself is checked against bert_score's
// formulas (PyTorch fixture) in Loom.Evaluation.Tests; here the command must print what the library's
// BertScorer computes over the same BERT (the in-memory model the directory was saved from) and the
// same WordPiece ids ([CLS] text [SEP]), and bad input must be one error line.
using System.Text.Json;
using Loom.Evaluation.Metrics;
using Loom.Models;
using Loom.Models.Bert;
using Loom.Training.Classification;

namespace Loom.Cli.Tests.Commands.Eval;

public class EvalBertScoreCommandTests
{
    private static readonly string[] Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "away", "."];

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, 1)]   // --layer: the library's layer choice is checked against bert_score's num_layers in PyTorch (Loom.Evaluation.Tests)
    [InlineData(true, 0)]
    public void BertScoreEqualsTheLibraryScorerOnTheSameModelAndIds(bool idf, int? layer)
    {
        string dir = CliRunner.TempDir();
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), Vocabulary);
        using var model = new BertModel(new BertConfig { VocabSize = Vocabulary.Length, HiddenSize = 16, Layers = 2, Heads = 2, IntermediateSize = 32, MaxPositions = 32 }, ModelOptions.Inference);
        model.InitializeWeights(7);
        model.Save(dir);
        string[] predictions = ["the cat sat on the mat .", "a dog ran", "the mat"];
        string[] references = ["a cat sat on a mat .", "the dog ran away .", "the cat"];
        string pred = Path.Combine(dir, "pred.txt"), refs = Path.Combine(dir, "refs.txt");
        File.WriteAllLines(pred, predictions);
        File.WriteAllLines(refs, references);

        var args = new List<string> { "eval", "metrics", "--metric", "bertscore", "--model", dir, "--predictions", pred, "--references", refs };
        if (idf) args.Add("--idf");
        if (layer is int l) args.AddRange(["--layer", l.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var (code, output, console) = CliRunner.Run([.. args]);
        Assert.True(code == 0, console + output);
        var json = JsonDocument.Parse(output).RootElement;

        var encoder = SequenceEncoder.Load(dir);
        List<IReadOnlyList<int>> Ids(string[] texts) => texts.Select(t => (IReadOnlyList<int>)encoder.Encode(t, null, 32, TruncationPolicy.Head).Ids).ToList();
        var c = Ids(predictions);
        var r = Ids(references);
        Assert.Equal([2, 5, 6, 7, 8, 5, 9, 14, 3], c[0]);   // [CLS] the cat sat on the mat . [SEP]
        var expected = new BertScorer(model, layer: layer).Score(c, r, idf ? BertScore.Idf(r) : null);
        if (layer is int chosen)
        {
            Assert.Equal(chosen, json.GetProperty("layer").GetInt32());
            Assert.NotEqual(new BertScorer(model).Score(c, r)[0].F1, expected[0].F1);   // the layer changes the embeddings
        }
        Assert.Equal(3, json.GetProperty("pairs").GetInt32());
        Assert.Equal(expected.Average(x => x.Precision), json.GetProperty("precision").GetDouble(), 1e-5);
        Assert.Equal(expected.Average(x => x.Recall), json.GetProperty("recall").GetDouble(), 1e-5);
        Assert.Equal(expected.Average(x => x.F1), json.GetProperty("f1").GetDouble(), 1e-5);
        Assert.InRange(json.GetProperty("f1").GetDouble(), 0.0, 1.0);
    }

    [Fact]
    public void BertScoreWithoutModelOrWithMismatchedFilesIsOneErrorLine()
    {
        string dir = CliRunner.TempDir();
        string pred = Path.Combine(dir, "pred.txt"), refs = Path.Combine(dir, "refs.txt");
        File.WriteAllLines(pred, ["a", "b"]);
        File.WriteAllLines(refs, ["a"]);
        var (code, _, console) = CliRunner.Run("eval", "metrics", "--metric", "bertscore", "--predictions", pred, "--references", refs);
        Assert.Equal(1, code);
        Assert.Contains("--metric bertscore needs --model DIR", console);
        Assert.DoesNotContain("   at ", console);

        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), Vocabulary);
        using (var model = new BertModel(new BertConfig { VocabSize = Vocabulary.Length, HiddenSize = 8, Layers = 1, Heads = 2, IntermediateSize = 16, MaxPositions = 16 }, ModelOptions.Inference))
            model.Save(dir);
        (code, _, console) = CliRunner.Run("eval", "metrics", "--metric", "bertscore", "--model", dir, "--predictions", pred, "--references", refs);
        Assert.Equal(1, code);
        Assert.Contains("2", console);
        Assert.Contains("refs.txt", console);
        Assert.DoesNotContain("   at ", console);

        File.WriteAllLines(refs, ["a", "b"]);
        (code, _, console) = CliRunner.Run("eval", "metrics", "--metric", "bertscore", "--model", dir, "--predictions", pred, "--references", refs, "--layer", "3");
        Assert.Equal(1, code);
        Assert.Contains("--layer 3", console);
        Assert.Contains("0 (the embeddings) to 1", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Theory]
    [InlineData("chrf++", "--layer", "2")]
    [InlineData("bleu", "--idf", null)]
    [InlineData("chrf", "--model", ".")]
    public void BertScoreOptionsOnAnotherMetricAreRefused(string metric, string option, string? value)
    {
        // Regression: `--metric chrf++ --layer 2` printed the chrF++ score and ignored --layer without a word.
        string dir = CliRunner.TempDir();
        string pred = Path.Combine(dir, "pred.txt"), refs = Path.Combine(dir, "refs.txt");
        File.WriteAllLines(pred, ["the cat sat"]);
        File.WriteAllLines(refs, ["the cat sat down"]);
        string[] args = ["eval", "metrics", "--metric", metric, "--predictions", pred, "--references", refs, option, .. value is null ? Array.Empty<string>() : [value == "." ? dir : value]];
        var (code, output, console) = CliRunner.Run(args);
        Assert.Equal(1, code);
        Assert.Contains($"{option}", console);
        Assert.Contains("applies to --metric bertscore only", console);
        Assert.DoesNotContain("   at ", console);
        Assert.Equal("", output.Trim());
    }
}
