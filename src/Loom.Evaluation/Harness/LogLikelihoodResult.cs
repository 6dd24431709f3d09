namespace Loom.Evaluation.Harness;

/// <summary>Summed natural-log probability of the continuation's tokens, whether each was the argmax, and how many there were.</summary>
public sealed record LogLikelihoodResult(double LogLikelihood, bool IsGreedy, int Tokens);
