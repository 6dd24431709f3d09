namespace Loom.Serving.Batch;

/// <summary>Settings of a batch job (`loom batch`).</summary>
public sealed record BatchOptions
{
    /// <summary>The OpenAI Batch API input file (JSONL: custom_id, method, url, body) — --input.</summary>
    public required string InputPath { get; init; }
    /// <summary>Results, appended one JSON line per request — --output.</summary>
    public required string OutputPath { get; init; }
    /// <summary>Requests submitted to the engine at once (continuous batching decides what runs together).</summary>
    public int MaxConcurrent { get; init; } = 64;
    /// <summary>Lines written between two flush+fsync of the output (also synced whenever the queue drains).</summary>
    public int SyncEvery { get; init; } = 32;
}
