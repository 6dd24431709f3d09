namespace Loom.Inference.Engine;

/// <summary>Token counts of a request (all n completions), as OpenAI's usage.</summary>
/// <param name="PromptTokens">Tokens of the prompt (counted once however many completions).</param>
/// <param name="CompletionTokens">Tokens generated over all completions, end-of-sequence tokens included.</param>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens)
{
    /// <summary>Prompt plus completion tokens.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;
}
