namespace Loom.Evaluation.Harness;

/// <summary>
/// Score <see cref="Continuation"/> after <see cref="Context"/>. As lm-evaluation-harness's
/// <c>_encode_pair</c>, trailing whitespace of the context is moved to the continuation before
/// tokenizing, and the continuation's tokens are those of <c>encode(context + continuation)</c> past
/// <c>encode(context)</c>.
/// </summary>
public sealed record LogLikelihoodRequest(string Context, string Continuation);
