// `loom eval compare A.json B.json`: every (task, metric) the two results files share, with both
// values, the difference B − A and whether the two bootstrap intervals overlap (a quick, conservative
// reading: non-overlapping 95% intervals imply a difference significant at well below 5%; overlapping
// ones do not prove equality). Tasks or metrics in only one file are listed as such.
using System.Text.Json.Nodes;

namespace Loom.Evaluation.Harness;

/// <summary>One row of a comparison.</summary>
public sealed record ComparisonRow(string Task, string Metric, double? A, double? B, double? Difference, bool? IntervalsOverlap);

/// <summary>Compares two results objects.</summary>
public static class ResultComparison
{
    public static IReadOnlyList<ComparisonRow> Compare(JsonObject a, JsonObject b)
    {
        var rows = new List<ComparisonRow>();
        var ta = (JsonObject)a["tasks"]!;
        var tb = (JsonObject)b["tasks"]!;
        foreach (var task in ta.Select(kv => kv.Key).Union(tb.Select(kv => kv.Key)).Order(StringComparer.Ordinal))
        {
            var ma = ta[task]?["metrics"] as JsonObject;
            var mb = tb[task]?["metrics"] as JsonObject;
            var names = (ma?.Select(kv => kv.Key) ?? []).Union(mb?.Select(kv => kv.Key) ?? []).Order(StringComparer.Ordinal);
            foreach (var metric in names)
            {
                var x = HarnessResults.Metric(a, task, metric);
                var y = HarnessResults.Metric(b, task, metric);
                rows.Add(new ComparisonRow(task, metric, x?.Value, y?.Value,
                    x != null && y != null ? y.Value - x.Value : null,
                    x != null && y != null ? x.Lower <= y.Upper && y.Lower <= x.Upper : null));
            }
        }
        return rows;
    }

    /// <summary>The comparison as a JSON object: {a, b, rows: [{task, metric, a, b, difference, intervals_overlap}]}.</summary>
    public static JsonObject ToJson(JsonObject a, JsonObject b, IReadOnlyList<ComparisonRow> rows) => new()
    {
        ["a"] = a["model"]?.DeepClone(),
        ["b"] = b["model"]?.DeepClone(),
        ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject
        {
            ["task"] = r.Task, ["metric"] = r.Metric, ["a"] = r.A, ["b"] = r.B, ["difference"] = r.Difference, ["intervals_overlap"] = r.IntervalsOverlap,
        })]),
    };
}
