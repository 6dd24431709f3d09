// One prompt token's score, as PromptLogprobs returns it.
namespace Loom.Inference.Scoring;

/// <summary>One prompt token's log-probability and its position's top alternatives.</summary>
/// <param name="TokenId">The prompt token.</param>
/// <param name="Logprob">log p(token | tokens before it); null for the first token.</param>
/// <param name="Top">The <c>k</c> most likely ids at this position with their log-probs, most likely first (empty for the first token).</param>
public sealed record PromptTokenLogprob(int TokenId, double? Logprob, IReadOnlyList<(int TokenId, double Logprob)> Top);
