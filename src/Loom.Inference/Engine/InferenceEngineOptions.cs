// Settings of an InferenceEngine: how much memory the paged KV cache gets and how big a step may be.
using Loom.Core.Validation;

namespace Loom.Inference.Engine;

/// <summary>Engine settings; defaults suit a small model on a CPU.</summary>
public sealed record InferenceEngineOptions
{
    /// <summary>Budget of the KV block pool in MiB (the server's --kv-cache-mb).</summary>
    public double KvCacheMegabytes { get; init; } = 256;

    /// <summary>Positions per KV block (vLLM's default is 16).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>Most sequences decoded together in one step (the server's --max-batch).</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>
    /// Most new tokens (prompt tokens being prefilled plus one per decoding sequence) in one step; a
    /// longer prompt is prefilled in chunks over several steps so decoding sequences keep moving.
    /// </summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>
    /// Share the KV of whole prompt blocks between requests whose prompts start alike (a system prompt,
    /// few-shot examples, the n completions of one request): vLLM's automatic prefix caching. On by
    /// default: outputs do not change, hashing a full prompt block costs next to nothing next to
    /// computing it, and cached blocks no sequence holds count as free (they are evicted, least
    /// recently used first, when the pool needs them), so it never costs capacity (the server's --prefix-caching).
    /// </summary>
    public bool PrefixCaching { get; init; } = true;

    /// <summary>
    /// End-of-sequence ids; null reads them from the model directory (generation_config.json, then
    /// config.json, then tokenizer_config.json's eos_token) when the engine is loaded from one.
    /// </summary>
    public IReadOnlyList<int>? EndOfSequenceIds { get; init; }

    /// <summary>A token put before every prompt (tokenizer_config.json's add_bos_token with bos_token); null: none.</summary>
    public int? BeginningOfSequenceId { get; init; }

    /// <summary>
    /// A LoRA adapter directory in PEFT's layout (adapter_config.json + adapter_model.safetensors) applied to
    /// the model through the projection seam when <see cref="InferenceEngine.Load"/> opens it; null: none.
    /// </summary>
    public string? AdapterDirectory { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        Setting.Positive("kv_cache_mb", KvCacheMegabytes);
        Setting.AtLeast("block_size", BlockSize, 1);
        Setting.AtLeast("max_batch", MaxBatch, 1);
        Setting.AtLeast("max_batch_tokens", MaxBatchTokens, 1);
    }
}
