// One row of a benchmark result: bench/results/<suite>.json is a JSON array of these.
using System.Text.Json.Serialization;

namespace Loom.Bench;

/// <summary>A measured figure; <see cref="Ratio"/> is Loom ÷ anchor (higher is better) when an anchor ran in the same process.</summary>
public sealed record BenchRow(
    [property: JsonPropertyName("case")] string Case,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("unit")] string Unit)
{
    [JsonPropertyName("anchor")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Anchor { get; init; }

    [JsonPropertyName("ratio")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Ratio { get; init; }
}
