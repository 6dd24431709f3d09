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

    /// <summary>What the anchor was (e.g. "openblas SkylakeX"), when a suite runs more than one.</summary>
    [JsonPropertyName("anchor_name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnchorName { get; init; }

    /// <summary>Which of Loom's kernel paths produced the value (e.g. "Avx512"), where it matters.</summary>
    [JsonPropertyName("kernel")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Kernel { get; init; }

    [JsonPropertyName("ratio")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Ratio { get; init; }
}
