// The seam between the task harness and whatever answers it: a local model through the inference
// engine (Loom.Inference/Scoring/EngineTaskModel) or an OpenAI-compatible endpoint
// (Loom.Evaluation/Endpoints/EndpointTaskModel). The harness sits here, below Inference, so that
// Evaluation keeps referencing nothing of the model stack: Inference → Evaluation, never the reverse.
// The two request kinds are lm-evaluation-harness's (lm_eval/api/model.py): loglikelihood and
// generate_until.
namespace Loom.Evaluation.Harness;

/// <summary>A model the harness can score: log-likelihood of continuations and greedy/sampled generation.</summary>
public interface ITaskModel
{
    /// <summary>What the results file calls the model (a directory name or an endpoint's model id).</summary>
    string Name { get; }

    /// <summary>
    /// False when the model cannot return log-likelihoods of given text (e.g. a model that can only generate;
    /// endpoints get them through completions <c>echo</c> + <c>logprobs</c>): multiple-choice and log-likelihood tasks are then refused up front.
    /// </summary>
    bool SupportsLogLikelihood { get; }

    /// <summary>log p(continuation | context) for each request, in order.</summary>
    Task<IReadOnlyList<LogLikelihoodResult>> LogLikelihoodAsync(IReadOnlyList<LogLikelihoodRequest> requests, CancellationToken cancellationToken = default);

    /// <summary>The continuation of each prompt (without the prompt, cut before the first stop sequence), in order.</summary>
    Task<IReadOnlyList<string>> GenerateAsync(IReadOnlyList<GenerationTaskRequest> requests, CancellationToken cancellationToken = default);
}
