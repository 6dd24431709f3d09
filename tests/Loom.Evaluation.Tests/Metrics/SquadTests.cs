// Squad against a line-by-line Python reimplementation of the official evaluate-v2.0.py and
// evaluate-v1.1.py (Fixtures/make_squad_fixture.py) on 150 questions of the SQuAD 2.0 dev split
// (CS224N half) with synthetic predictions covering exact, case/punctuation/article variants, partial,
// over-long and wrong spans, and "" on answerable and unanswerable questions. Percentages to 1e-9.
using System.Text.Json;
using Loom.Evaluation.Metrics;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class SquadTests
{
    private static JsonElement Load(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(GenerationVectors.Folder, name))).RootElement;

    private static Dictionary<string, string> Predictions() =>
        Load("squad_predictions.json").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    [Fact]
    public void V2EqualsTheOfficialScript()
    {
        var expected = Load("squad_expected.json").GetProperty("squad_v2");
        var r = Squad.EvaluateV2(Load("squad_subset.json").GetProperty("data"), Predictions());
        Near(expected, "exact", r.Exact);
        Near(expected, "f1", r.F1);
        Assert.Equal(expected.GetProperty("total").GetInt32(), r.Total);
        Near(expected, "HasAns_exact", r.HasAnsExact!.Value);
        Near(expected, "HasAns_f1", r.HasAnsF1!.Value);
        Assert.Equal(expected.GetProperty("HasAns_total").GetInt32(), r.HasAnsTotal);
        Near(expected, "NoAns_exact", r.NoAnsExact!.Value);
        Near(expected, "NoAns_f1", r.NoAnsF1!.Value);
        Assert.Equal(expected.GetProperty("NoAns_total").GetInt32(), r.NoAnsTotal);
    }

    [Fact]
    public void V1EqualsTheOfficialScript()
    {
        var expected = Load("squad_expected.json").GetProperty("squad_v1_answerable");
        var r = Squad.EvaluateV1(Load("squad_subset_answerable.json").GetProperty("data"), Predictions());
        Near(expected, "exact_match", r.ExactMatch);
        Near(expected, "f1", r.F1);
    }

    [Fact]
    public void NormalizationDropsCasePunctuationArticlesAndSpaces()
    {
        Assert.Equal("cat sat", Squad.Normalize("  The CAT, sat!  "));
        Assert.Equal(1, Squad.ExactMatch("the Cat sat", "Cat  sat."));
        Assert.Equal(1.0, Squad.F1("", ""));
        Assert.Equal(0.0, Squad.F1("cat", ""));
    }

    private static void Near(JsonElement expected, string name, double actual)
    {
        double e = expected.GetProperty(name).GetDouble();
        Assert.True(Math.Abs(e - actual) <= 1e-9, $"{name}: expected {e:R}, got {actual:R}");
    }
}
