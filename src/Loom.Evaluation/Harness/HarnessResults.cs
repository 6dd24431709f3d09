// The harness's results file, in a stable, documented schema (docs/EVALUATION.md#results-json):
//   { "schema": "loom.eval.harness/1", "model": ..., "created": ISO-8601 UTC, "config": {...},
//     "tasks": { name: { "output_type", "source", "documents", "num_fewshot",
//                        "metrics": { metric: { "value", "ci_lower", "ci_upper", "stderr", "confidence", "resamples" } },
//                        "warnings": [...] } } }
// Readers must ignore keys they do not know; a change that removes or renames a key bumps the
// schema's version. Per-document samples go to samples_<task>.jsonl next to it.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Evaluation.Statistics;

namespace Loom.Evaluation.Harness;

/// <summary>Writes and reads harness results files.</summary>
public static class HarnessResults
{
    public const string Schema = "loom.eval.harness/1";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The results object of a run.</summary>
    public static JsonObject ToJson(string model, IReadOnlyList<TaskResult> tasks, HarnessOptions options, DateTimeOffset? created = null)
    {
        var t = new JsonObject();
        foreach (var r in tasks)
        {
            var metrics = new JsonObject();
            foreach (var (name, ci) in r.Metrics)
                metrics[name] = new JsonObject
                {
                    ["value"] = ci.Value, ["ci_lower"] = ci.Lower, ["ci_upper"] = ci.Upper, ["stderr"] = ci.StandardError,
                    ["confidence"] = ci.Confidence, ["resamples"] = ci.Resamples,
                };
            t[r.Name] = new JsonObject
            {
                ["output_type"] = OutputTypeName(r.OutputType), ["source"] = r.SourcePath, ["documents"] = r.Documents, ["num_fewshot"] = r.Shots,
                ["metrics"] = metrics, ["warnings"] = new JsonArray([.. r.Warnings.Select(w => (JsonNode)w)]),
            };
        }
        return new JsonObject
        {
            ["schema"] = Schema,
            ["model"] = model,
            ["created"] = (created ?? DateTimeOffset.UtcNow).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["config"] = new JsonObject
            {
                ["shots"] = options.Shots, ["limit"] = options.Limit, ["seed"] = options.Seed,
                ["bootstrap_resamples"] = options.BootstrapResamples, ["confidence"] = options.Confidence,
            },
            ["tasks"] = t,
        };
    }

    public static string OutputTypeName(TaskOutputType type) => type switch
    {
        TaskOutputType.MultipleChoice => "multiple_choice",
        TaskOutputType.GenerateUntil => "generate_until",
        _ => "loglikelihood",
    };

    /// <summary>Writes results.json, samples_&lt;task&gt;.jsonl and report.html into <paramref name="directory"/>.</summary>
    public static void Write(string directory, JsonObject results, IReadOnlyList<TaskResult> tasks)
    {
        Directory.CreateDirectory(directory);
        foreach (var r in tasks)
            DurableFile.WriteAllText(Path.Combine(directory, $"samples_{r.Name}.jsonl"), string.Concat(r.Samples.Select(s => s.ToJsonString() + "\n")));
        DurableFile.WriteAllText(Path.Combine(directory, "report.html"), HarnessReport.Html(results));
        // results.json last (each file written to a temporary name, synced, renamed): its presence means the run finished.
        DurableFile.WriteAllText(Path.Combine(directory, "results.json"), results.ToJsonString(Indented) + "\n");
    }

    /// <summary>Reads a results file, checking its schema.</summary>
    public static JsonObject Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Results file {path} does not exist.", path);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message.Split(" Path:")[0]}", e); }
        if (node is not JsonObject o || o["schema"]?.GetValue<string>() is not { } schema)
            throw new InvalidDataException($"{path}: not a harness results file (no \"schema\"); pass the results.json that `loom eval harness --output DIR` wrote.");
        if (schema != Schema) throw new InvalidDataException($"{path}: schema \"{schema}\"; this Loom reads \"{Schema}\".");
        if (o["tasks"] is not JsonObject) throw new InvalidDataException($"{path}: no \"tasks\" object.");
        return o;
    }

    /// <summary>A task metric's interval from a results object.</summary>
    public static BootstrapInterval? Metric(JsonObject results, string task, string metric) =>
        results["tasks"]?[task]?["metrics"]?[metric] is JsonObject m
            ? new BootstrapInterval(m["value"]!.GetValue<double>(), m["ci_lower"]!.GetValue<double>(), m["ci_upper"]!.GetValue<double>(),
                m["confidence"]!.GetValue<double>(), m["resamples"]!.GetValue<int>(), m["stderr"]!.GetValue<double>())
            : null;
}
