// How sure the model was of a completion (selective generation: El-Yaniv & Wiener 2010; for LMs,
// Kadavath et al. 2022 and Manakul et al. 2023 use the mean token log-probability and the mean
// predictive entropy as the simplest uncertainty scores). Computed on the distribution each token
// was drawn from (after the sampler's logit processing, as the logprobs field reports it).
namespace Loom.Inference.Engine;

/// <summary>Per-completion confidence.</summary>
/// <param name="MeanLogprob">Mean natural-log probability of the generated tokens (0 is certain).</param>
/// <param name="MeanEntropy">Mean entropy, in nats, of the distribution at each generated position.</param>
/// <param name="Tokens">Generated tokens it averages over.</param>
public sealed record GenerationConfidence(double MeanLogprob, double MeanEntropy, int Tokens);
