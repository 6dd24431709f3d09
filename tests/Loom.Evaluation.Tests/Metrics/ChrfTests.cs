// Chrf against sacreBLEU's own chrF test vectors (Fixtures/generation/sacrebleu_vectors.json, from
// mjpost/sacrebleu test_chrf.py): sentence chrF2, corpus chrF with β = 3 in eps-smoothing mode, the
// effective-order mode (sacreBLEU < 2.0 and its default) and keep-whitespace mode, to 1e-4.
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.Metrics.GenerationVectors;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class ChrfTests
{
    public static TheoryData<int> Cases => Indices("sacrebleu", "chrf");

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsSacreBleu(int index)
    {
        var c = SacreBleu("chrf", index);
        var p = c.GetProperty("params");
        var options = new ChrfOptions
        {
            CharOrder = p.GetProperty("char_order").GetInt32(),
            WordOrder = p.GetProperty("word_order").GetInt32(),
            Beta = p.GetProperty("beta").GetInt32(),
            EpsSmoothing = p.GetProperty("eps_smoothing").GetBoolean(),
            Whitespace = p.TryGetProperty("remove_whitespace", out var rw) && !rw.GetBoolean(),
        };
        ChrfScore score = c.GetProperty("kind").GetString() == "sentence_chrf"
            ? Chrf.Sentence(c.GetProperty("hypothesis").GetString()!, Strings(c.GetProperty("references")), options)
            : Chrf.Corpus(Strings(c.GetProperty("hypotheses")), [Strings(c.GetProperty("reference_stream"))], options);
        double expected = c.GetProperty("expected_score").GetDouble();
        Assert.True(Math.Abs(expected - score.Score) <= c.GetProperty("tolerance").GetDouble(), $"case {index}: expected {expected:R}, got {score.Score:R}");
    }

    [Fact]
    public void ChrfPlusPlusCountsWordBigramsAndIsNamedSo()
    {
        // Identical texts score 100 whatever the orders; a word-order change leaves every word unigram
        // matching but no word bigram, so chrF++ (8 orders: 6 character, 2 word) drops below 100.
        Assert.Equal(100, Chrf.Sentence("the cat sat.", ["the cat sat."], ChrfOptions.ChrfPlusPlus).Score, 10);
        double plus = Chrf.Sentence("sat the cat", ["the cat sat"], ChrfOptions.ChrfPlusPlus).Score;
        Assert.InRange(plus, 1, 99);
        Assert.Equal("chrF2++", Chrf.Name(ChrfOptions.ChrfPlusPlus));
    }
}
