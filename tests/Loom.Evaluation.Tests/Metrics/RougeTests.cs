// Rouge against the rouge-score package's own test vectors (Fixtures/generation/rouge_vectors.json,
// from google-research rouge/rouge_scorer_test.py; expected values from ROUGE-1.5.5 runs): rouge1/2/L
// and rougeLsum, with and without the Porter stemmer, to each case's absolute tolerance. PorterStemmer
// against NLTK's own doctest (nltk/test/stem.doctest: the "plurals" example).
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.Metrics.GenerationVectors;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class RougeTests
{
    public static TheoryData<int> Cases => Indices("rouge", "");

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsRougeScore(int index)
    {
        var c = Rouge(index);
        var s = Loom.Evaluation.Metrics.Rouge.Score(c.GetProperty("target").GetString()!, c.GetProperty("prediction").GetString()!,
            c.GetProperty("rouge_type").GetString()!, c.GetProperty("use_stemmer").GetBoolean());
        var e = c.GetProperty("expected");
        double tol = c.GetProperty("abs_tolerance").GetDouble();
        Assert.True(Math.Abs(e.GetProperty("precision").GetDouble() - s.Precision) <= tol, $"case {index} precision: expected {e.GetProperty("precision").GetDouble():R}, got {s.Precision:R}");
        Assert.True(Math.Abs(e.GetProperty("recall").GetDouble() - s.Recall) <= tol, $"case {index} recall: expected {e.GetProperty("recall").GetDouble():R}, got {s.Recall:R}");
        Assert.True(Math.Abs(e.GetProperty("fmeasure").GetDouble() - s.FMeasure) <= tol, $"case {index} fmeasure: expected {e.GetProperty("fmeasure").GetDouble():R}, got {s.FMeasure:R}");
    }

    [Fact]
    public void PorterStemmerEqualsNltksDoctest()
    {
        string[] plurals = ["caresses", "flies", "dies", "mules", "denied", "died", "agreed", "owned", "humbled", "sized", "meeting", "stating",
            "siezing", "itemization", "sensational", "traditional", "reference", "colonizer", "plotted"];
        Assert.Equal("caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot",
            string.Join(' ', plurals.Select(PorterStemmer.Stem)));
    }

    [Fact]
    public void MultipleTargetsTakeTheBestFMeasure()
    {
        var best = Loom.Evaluation.Metrics.Rouge.ScoreMulti(["a b c d", "the cat sat"], "the cat sat", "rouge1", stemmer: false);
        Assert.Equal(1.0, best.FMeasure, 12);
    }
}
