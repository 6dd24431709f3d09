// What a model directory says about its classification head, read without building the model:
// whether model.safetensors holds the family's head (score/classifier) and, for families with one,
// the pooler (HF's BertForMaskedLM has neither), plus config.json's architectures, id2label and task.
// Shared by `loom classify`/`loom explain`/`loom finetune` and loom-run (which cannot reference the CLI).
using System.Text.Json.Nodes;
using Loom.Models.Families;
using Loom.Models.Formats;

namespace Loom.Models.Classification;

/// <summary>What a classifier directory's files say about its trained head (without building the model).</summary>
public sealed record TrainedHead(bool HasHead, bool HasPooler, string HeadTensor, string PoolerTensor, string Architecture, IReadOnlyList<string> Labels, ProblemType ProblemType)
{
    /// <summary>null when the directory cannot be read this way (SequenceClassifiers.Load then names what is wrong).</summary>
    public static TrainedHead? Inspect(string directory)
    {
        string configPath = Path.Combine(directory, "config.json"), weights = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(configPath) || !File.Exists(weights)) return null;
        JsonObject? json;
        try { json = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject; }
        catch (System.Text.Json.JsonException) { return null; }
        if (json is null) return null;
        string type = json["model_type"] is JsonValue t && t.TryGetValue(out string? mt) ? mt : "gpt2";
        if (ModelFamilies.Find(type)?.SequenceClassifier is not { } layout) return null;
        string head = layout.ScoreModule + ".weight";
        string pooler = layout.PoolerModule is { } m ? m + ".weight" : "";
        bool hasHead, hasPooler;
        try
        {
            using var file = SafetensorsFile.Open(weights);
            hasHead = file.Tensors.ContainsKey(head);
            hasPooler = layout.PoolerModule is null
                || new[] { pooler, layout.BodyPrefix + pooler }.Concat(layout.AlternativeNames(pooler)).Any(file.Tensors.ContainsKey);
        }
        catch (Exception e) when (e is InvalidDataException or IOException) { return null; }
        string architecture = json["architectures"] is JsonArray { Count: > 0 } a && a[0] is JsonValue av && av.TryGetValue(out string? arch) ? arch : "not given";
        var labels = new List<string>();
        if (json["id2label"] is JsonObject id2label)
        {
            var byId = new SortedDictionary<int, string>();
            foreach (var (k, v) in id2label)
                if (int.TryParse(k, out int id) && v is JsonValue s && s.TryGetValue(out string? name)) byId[id] = name;
            labels.AddRange(byId.Values);
        }
        int? num = json["num_labels"] is JsonValue n && n.TryGetValue(out int nl) ? nl : null;
        if ((num ?? (labels.Count > 0 ? labels.Count : 2)) is var count && count != labels.Count)
            labels = Enumerable.Range(0, count).Select(i => $"LABEL_{i}").ToList();   // HF's default names (2 classes without num_labels)
        ProblemType problem = json["problem_type"] is JsonValue p && p.TryGetValue(out string? pt) ? pt switch
        {
            "multi_label_classification" => ProblemType.MultiLabel,
            "regression" => ProblemType.Regression,
            _ => ProblemType.SingleLabel,
        } : labels.Count == 1 ? ProblemType.Regression : ProblemType.SingleLabel;
        return new TrainedHead(hasHead, hasPooler, head, pooler, architecture, labels, problem);
    }
}
