namespace Loom.Inference.Engine;

/// <summary>A token with its log-probability under the model (log softmax of the raw logits).</summary>
/// <param name="TokenId">The id.</param>
/// <param name="Text">Its text (a token that is part of a multi-byte character shows U+FFFD).</param>
/// <param name="Logprob">Natural-log probability.</param>
public readonly record struct TokenLogprob(int TokenId, string Text, float Logprob);
