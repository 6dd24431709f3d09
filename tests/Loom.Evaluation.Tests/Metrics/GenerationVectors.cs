// Loads the reference vectors in Fixtures/generation (see its README for provenance): sacreBLEU's and
// rouge-score's own test cases, and the SQuAD subset scored by make_squad_fixture.py.
using System.Text.Json;

namespace Loom.Evaluation.Tests.Metrics;

internal static class GenerationVectors
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "generation");

    private static readonly Lazy<JsonDocument> SacreBleuDoc = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "sacrebleu_vectors.json"))));
    private static readonly Lazy<JsonDocument> RougeDoc = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "rouge_vectors.json"))));

    public static JsonElement SacreBleu(string section, int index) => SacreBleuDoc.Value.RootElement.GetProperty(section)[index];

    public static JsonElement Rouge(int index) => RougeDoc.Value.RootElement.GetProperty("cases")[index];

    public static TheoryData<int> Indices(string file, string section)
    {
        var root = file == "rouge" ? RougeDoc.Value.RootElement.GetProperty("cases") : SacreBleuDoc.Value.RootElement.GetProperty(section);
        var data = new TheoryData<int>();
        for (int i = 0; i < root.GetArrayLength(); i++) data.Add(i);
        return data;
    }

    public static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    public static bool TryParam(JsonElement c, string name, out JsonElement value)
    {
        value = default;
        return c.TryGetProperty("params", out var p) && p.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }
}
