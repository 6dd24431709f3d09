namespace Loom.Inference.Engine;

/// <summary>One finished completion of a request.</summary>
public sealed record GenerationChoice
{
    /// <summary>Which of the n completions.</summary>
    public int Index { get; init; }
    /// <summary>The generated text (cut before a stop string).</summary>
    public string Text { get; init; } = "";
    /// <summary>The generated token ids (an end-of-sequence or stop token id included when one ended it).</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];
    /// <summary>Log-probability per generated token when asked for.</summary>
    public IReadOnlyList<float>? Logprobs { get; init; }
    /// <summary>Alternatives per generated token when asked for.</summary>
    public IReadOnlyList<IReadOnlyList<TokenLogprob>>? TopLogprobs { get; init; }
    /// <summary>Mean token log-probability and entropy of the completion.</summary>
    public GenerationConfidence? Confidence { get; init; }
    /// <summary>Why it ended.</summary>
    public FinishReason FinishReason { get; init; }
}
