namespace Loom.Inference.Engine;

/// <summary>A snapshot of the engine's queue and KV pool (what /metrics reports).</summary>
public sealed record EngineStatistics
{
    public int Waiting { get; init; }
    public int Running { get; init; }
    public int TotalBlocks { get; init; }
    public int UsedBlocks { get; init; }
    public int FreeBlocks => TotalBlocks - UsedBlocks;
    /// <summary>Bytes of the KV pool's one allocation.</summary>
    public long KvCacheBytes { get; init; }
    /// <summary>Sequences preempted (their blocks freed, recomputed later) since start.</summary>
    public long Preemptions { get; init; }
    /// <summary>Model calls since start.</summary>
    public long Steps { get; init; }
    /// <summary>Sequences in the last model call.</summary>
    public int LastBatchSize { get; init; }
    public long PromptTokens { get; init; }
    public long GeneratedTokens { get; init; }
    /// <summary>Prompt tokens whose KV came from the prefix cache instead of a prefill, since start.</summary>
    public long PrefixCacheHitTokens { get; init; }
    /// <summary>Prefix blocks cached but held by no sequence (evictable; counted as free).</summary>
    public int CachedBlocks { get; init; }
}
