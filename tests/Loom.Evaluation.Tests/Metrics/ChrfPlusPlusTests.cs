// chrF++ (word order 2) against Fixtures/generation/chrfpp_vectors.json: sacreBLEU's CHRF(word_order=2)
// computed by make_chrfpp_vectors.py, a transcription of sacreBLEU's chrF code that first reproduces
// every chrF value of sacreBLEU's own test suite (sacrebleu_vectors.json). Sentence and corpus scores,
// both smoothing modes, β 2 and 3, lowercase, several references and a missing one, and the word
// tokenisation's punctuation edge cases, to 1e-4 (sacreBLEU's test tolerance).
using System.Text.Json;
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.Metrics.GenerationVectors;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class ChrfPlusPlusTests
{
    private static readonly Lazy<JsonDocument> Doc = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "chrfpp_vectors.json"))));

    public static TheoryData<int> Cases
    {
        get
        {
            var data = new TheoryData<int>();
            for (int i = 0; i < Doc.Value.RootElement.GetProperty("cases").GetArrayLength(); i++) data.Add(i);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsSacreBleuTranscription(int index)
    {
        var c = Doc.Value.RootElement.GetProperty("cases")[index];
        var p = c.GetProperty("params");
        var options = new ChrfOptions
        {
            CharOrder = p.GetProperty("char_order").GetInt32(),
            WordOrder = p.GetProperty("word_order").GetInt32(),
            Beta = p.GetProperty("beta").GetInt32(),
            EpsSmoothing = p.GetProperty("eps_smoothing").GetBoolean(),
            Lowercase = p.GetProperty("lowercase").GetBoolean(),
        };
        ChrfScore score = c.GetProperty("kind").GetString() == "sentence_chrf"
            ? Chrf.Sentence(c.GetProperty("hypothesis").GetString()!, Strings(c.GetProperty("references")), options)
            : Chrf.Corpus(Strings(c.GetProperty("hypotheses")),
                c.GetProperty("reference_streams").EnumerateArray().Select(s => (IReadOnlyList<string?>)s.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Null ? null : x.GetString()).ToArray()).ToList(),
                options);
        double expected = c.GetProperty("expected_score").GetDouble();
        Assert.True(Math.Abs(expected - score.Score) <= 1e-4, $"case {index}: expected {expected:R}, got {score.Score:R}");
        Assert.Equal($"chrF{options.Beta}++", score.Name);
    }
}
