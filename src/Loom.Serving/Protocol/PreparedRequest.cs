// A validated OpenAI request, ready for the engine: the prompts already tokenized exactly as the
// engine will run them (so usage and the context check are exact), the sampling settings, and how the
// answer is to be shaped (streamed or not, usage in the stream, which logprobs format).
using Loom.Inference.Generation;

namespace Loom.Serving.Protocol;

/// <summary>A request that passed validation.</summary>
public sealed record PreparedRequest
{
    public required ApiEndpoint Endpoint { get; init; }
    /// <summary>The served model name the client asked for.</summary>
    public required string Model { get; init; }
    /// <summary>Token ids of each prompt (BOS included when the model asks for it); for embeddings, of each input.</summary>
    public required IReadOnlyList<int[]> Prompts { get; init; }
    /// <summary>The prompt texts, for the request log.</summary>
    public required IReadOnlyList<string> PromptTexts { get; init; }
    public SamplingOptions Sampling { get; init; } = new();
    public bool Stream { get; init; }
    /// <summary>Completions' echo: the prompt text (and, with logprobs, its token log-probs) before the completion; Sampling.MaxNewTokens may then be 0.</summary>
    public bool Echo { get; init; }
    /// <summary>stream_options.include_usage: a last chunk with empty choices and the usage.</summary>
    public bool IncludeUsage { get; init; }
    /// <summary>Embeddings' encoding_format is "base64".</summary>
    public bool Base64 { get; init; }
}
