// One case of Fixtures/make_classifier_fixture.py (family × single/regression/multi) written out as
// the Hugging Face directory a user would hand Loom: config.json (the fixture's config plus the
// case's labels) and model.safetensors under the classifier's state-dict names.
using System.Text.Json.Nodes;
using Loom.Models.Formats;

namespace Loom.Models.Tests.Classification;

internal sealed class ClassifierFixture : IDisposable
{
    public static readonly string[] Families = ["gpt2", "llama", "bert"];
    public static readonly string[] Cases = ["single", "regression", "multi"];

    public SafetensorsFile File { get; }
    public string Case { get; }
    public string Directory { get; }
    public int B { get; }
    public int T { get; }
    public int NumLabels { get; }
    public int[] Ids { get; }
    public int[] AttentionMask { get; }
    public int[] TokenTypes { get; }
    public JsonObject Config { get; }

    /// <summary>The classifier's state-dict names for this case, as the script lists HF's module tree.</summary>
    public IReadOnlyList<string> Names { get; }

    public ClassifierFixture(string family, string @case, Func<JsonObject, JsonObject>? editConfig = null, Func<string, string?>? rename = null, bool withHead = true)
    {
        File = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", family + "_classifier.safetensors"));
        Case = @case;
        B = int.Parse(File.Metadata["batch"]);
        T = int.Parse(File.Metadata["time"]);
        NumLabels = int.Parse(File.Metadata["num_labels." + @case]);
        Ids = File.ReadInt32("ids");
        AttentionMask = File.ReadInt32("attention_mask");
        TokenTypes = File.ReadInt32("token_types");
        Names = JsonNode.Parse(File.Metadata["names." + @case])!.AsArray().Select(n => (string)n!).ToList();
        Config = JsonNode.Parse(File.Metadata["config"])!.AsObject();
        // single: id2label only (problem_type inferred); regression: num_labels 1 only (inferred); multi: explicit.
        if (@case == "single") Config["id2label"] = new JsonObject { ["0"] = "neg", ["1"] = "neutral", ["2"] = "pos" };
        else if (@case == "regression") Config["num_labels"] = 1;
        else { Config["id2label"] = new JsonObject { ["0"] = "a", ["1"] = "b", ["2"] = "c" }; Config["problem_type"] = "multi_label_classification"; }
        if (editConfig != null) Config = editConfig(Config);
        Directory = Path.Combine(Path.GetTempPath(), "loom-cls-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.File.WriteAllText(Path.Combine(Directory, "config.json"), Config.ToJsonString());
        var items = new List<SafetensorsWriter.Item>();
        foreach (var (key, entry) in File.Tensors)
        {
            string? name = key.StartsWith("w.", StringComparison.Ordinal) ? key[2..]
                : key.StartsWith(@case + ".w.", StringComparison.Ordinal) && withHead ? key[(@case.Length + 3)..] : null;
            if (name == null) continue;
            if (rename != null && (name = rename(name)) == null) continue;
            items.Add(new SafetensorsWriter.Item(name, entry.Shape, File.ReadSingle(key)));
        }
        SafetensorsWriter.Write(Path.Combine(Directory, "model.safetensors"), items);
    }

    public TokenBatch Batch => new(Ids, B, T) { AttentionMask = AttentionMask, TokenTypes = TokenTypes };

    public Loom.Models.Classification.ClassificationLabels Labels => Case == "single"
        ? Loom.Models.Classification.ClassificationLabels.FromClasses(File.ReadInt32("single.labels"))
        : Loom.Models.Classification.ClassificationLabels.FromValues(File.ReadSingle(Case + ".labels"));

    /// <summary>PyTorch's gradient of a Loom tensor (its name, or "transformer." + it), or null when the classifier has no such tensor.</summary>
    public float[]? Gradient(string loomName)
    {
        foreach (var n in new[] { loomName, "transformer." + loomName })
            if (File.Tensors.ContainsKey($"{Case}.g.{n}")) return File.ReadSingle($"{Case}.g.{n}");
        return null;
    }

    public void Dispose()
    {
        File.Dispose();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}
