using System.Text.Json.Nodes;
using Loom.Evaluation.Statistics;

namespace Loom.Evaluation.Harness;

/// <summary>One task's scores: each metric with its bootstrap interval, and one sample record per document.</summary>
public sealed record TaskResult
{
    public required string Name { get; init; }
    public required TaskOutputType OutputType { get; init; }
    public required string SourcePath { get; init; }
    public required int Documents { get; init; }
    public required int Shots { get; init; }
    public required IReadOnlyDictionary<string, BootstrapInterval> Metrics { get; init; }

    /// <summary>Per document: index, prompt, target, model output (log-likelihoods or text), extracted answer and per-metric score.</summary>
    public required IReadOnlyList<JsonObject> Samples { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];
}
