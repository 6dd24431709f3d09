// Bleu against sacreBLEU's own test vectors (Fixtures/generation/sacrebleu_vectors.json, transcribed
// from mjpost/sacrebleu test_bleu.py and test_sentence_bleu.py): corpus BLEU with 13a/none/intl,
// smoothing none/exp/floor/add-k, effective order, max n-gram orders 1-6, empty hypotheses, BLEU from
// sufficient statistics, sentence BLEU with the char tokenizer and lowercasing — each to its stated tolerance.
using System.Globalization;
using System.Text.Json;
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.Metrics.GenerationVectors;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class BleuTests
{
    public static TheoryData<int> Cases => Indices("sacrebleu", "bleu");

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsSacreBleu(int index)
    {
        var c = SacreBleu("bleu", index);
        string kind = c.GetProperty("kind").GetString()!;
        BleuScore score;
        switch (kind)
        {
            case "corpus_bleu":
            {
                var options = new BleuOptions
                {
                    Tokenize = TryParam(c, "tokenize", out var t) ? t.GetString()! : "13a",
                    SmoothMethod = TryParam(c, "smooth_method", out var s) ? s.GetString()! : "exp",
                    MaxNgramOrder = TryParam(c, "max_ngram_order", out var o) ? o.GetInt32() : 4,
                };
                score = Bleu.Corpus(Strings(c.GetProperty("hypotheses")), Streams(c), options);
                break;
            }
            case "raw_corpus_bleu":
                // sacrebleu.raw_corpus_bleu: tokenize none, floor smoothing with the given value, effective order.
                score = Bleu.Corpus(Strings(c.GetProperty("hypotheses")), Streams(c), new BleuOptions
                {
                    Tokenize = "none", SmoothMethod = "floor", SmoothValue = c.GetProperty("params").GetProperty("smooth_value").GetDouble(), EffectiveOrder = true,
                });
                break;
            case "compute_bleu_from_stats":
                score = Bleu.Compute(Doubles(c.GetProperty("correct")), Doubles(c.GetProperty("total")), c.GetProperty("sys_len").GetInt64(), c.GetProperty("ref_len").GetInt64(),
                    new BleuOptions
                    {
                        SmoothMethod = TryParam(c, "smooth_method", out var sm) ? sm.GetString()! : "none",
                        SmoothValue = TryParam(c, "smooth_value", out var sv) ? sv.GetDouble() : null,
                    });
                break;
            case "sentence_bleu":
                score = Bleu.Sentence(c.GetProperty("hypothesis").GetString()!, Strings(c.GetProperty("references")), new BleuOptions
                {
                    SmoothMethod = c.GetProperty("params").GetProperty("smooth_method").GetString()!,
                    SmoothValue = TryParam(c, "smooth_value", out var v) ? v.GetDouble() : null,
                    Lowercase = c.GetProperty("params").GetProperty("lowercase").GetBoolean(),
                    Tokenize = c.GetProperty("params").GetProperty("tokenize").GetString()!,
                    EffectiveOrder = c.GetProperty("params").GetProperty("effective_order").GetBoolean(),
                });
                break;
            default:
                throw new InvalidOperationException(kind);
        }
        if (c.TryGetProperty("expected_score", out var e))
            Near(e.GetDouble(), score.Score, c.GetProperty("tolerance").GetDouble(), index);
        else if (c.TryGetProperty("expected_score_2dp", out var e2))
            Assert.Equal(e2.ValueKind == JsonValueKind.String ? e2.GetString() : e2.GetDouble().ToString("F2", CultureInfo.InvariantCulture), score.Score.ToString("F2", CultureInfo.InvariantCulture));
        else if (c.TryGetProperty("expected_fraction", out var f))
            Near(f.GetDouble(), score.Score / 100, c.TryGetProperty("tolerance", out var tol) ? tol.GetDouble() : 0, index);
        else
        {
            Assert.Equal(Doubles(c.GetProperty("expected_counts")), score.Counts);
            Assert.Equal(Doubles(c.GetProperty("expected_totals")), score.Totals);
        }
    }

    [Fact]
    public void SignatureStatesTheSettings()
    {
        var s = Bleu.Corpus(["the cat sat on the mat"], [new[] { "the cat sat on the mat" }], new BleuOptions());
        Assert.Equal("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" + Bleu.SignatureVersion, s.Signature);
        Assert.Equal(100, s.Score, 12);
        // Three tokens have no 4-gram: without effective order corpus BLEU is 0, as sacreBLEU's.
        Assert.Equal(0, Bleu.Corpus(["the cat sat"], [new[] { "the cat sat" }]).Score);
    }

    [Fact]
    public void StreamLengthMismatchNamesBothCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => Bleu.Corpus(["a", "b"], [new[] { "a" }]));
        Assert.Contains("1 segments", e.Message);
        Assert.Contains("2 hypotheses", e.Message);
    }

    private static List<IReadOnlyList<string?>> Streams(JsonElement c) =>
        c.GetProperty("reference_streams").EnumerateArray().Select(s => (IReadOnlyList<string?>)Strings(s)).ToList();

    private static void Near(double expected, double actual, double tolerance, int index) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Max(tolerance, 1e-12), $"case {index}: expected {expected:R}, got {actual:R}");
}
