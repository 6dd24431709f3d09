// What a caller asks the engine for: a prompt (text, or token ids) and the sampling settings.
using Loom.Inference.Generation;

namespace Loom.Inference.Engine;

/// <summary>One generation request; exactly one of <see cref="Prompt"/> and <see cref="PromptTokens"/> is set.</summary>
public sealed record GenerationRequest
{
    /// <summary>Prompt text; special-token text in it (from a chat template) is read as those tokens.</summary>
    public string? Prompt { get; init; }

    /// <summary>Prompt token ids, used as given (no BOS added).</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>Sampling settings (n, max tokens, stops, logprobs, ...).</summary>
    public SamplingOptions Sampling { get; init; } = new();

    public GenerationRequest() { }

    public GenerationRequest(string prompt, SamplingOptions? sampling = null)
    {
        Prompt = prompt;
        Sampling = sampling ?? new();
    }
}
