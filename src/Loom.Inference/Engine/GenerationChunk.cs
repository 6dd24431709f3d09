// One streamed piece of a completion: the text a new token completed (possibly empty while a
// multi-byte character or a possible stop string is held back), the token, its log-probability,
// and on the last chunk of a completion the finish reason. The last chunk of the whole request
// (after all n completions finished) also carries the usage.
namespace Loom.Inference.Engine;

/// <summary>A streamed piece of generated output.</summary>
public sealed record GenerationChunk
{
    /// <summary>Which of the request's n completions (0-based).</summary>
    public int Index { get; init; }

    /// <summary>Text completed by this token (may be empty).</summary>
    public string Text { get; init; } = "";

    /// <summary>The generated token, or null on a chunk that only ends a completion.</summary>
    public int? TokenId { get; init; }

    /// <summary>Log-probability of <see cref="TokenId"/> when logprobs were asked for.</summary>
    public float? Logprob { get; init; }

    /// <summary>The most likely tokens at this position when top_logprobs &gt; 0, most likely first.</summary>
    public IReadOnlyList<TokenLogprob>? TopLogprobs { get; init; }

    /// <summary>Set on the completion's last chunk.</summary>
    public FinishReason? FinishReason { get; init; }

    /// <summary>Set on the completion's last chunk: mean token log-probability and entropy.</summary>
    public GenerationConfidence? Confidence { get; init; }

    /// <summary>Set on the request's last chunk.</summary>
    public GenerationUsage? Usage { get; init; }
}
