// The task harness's ITaskModel over an OpenAI-compatible endpoint. Generation uses
// /v1/completions with the raw prompt (no chat template), so a local model and the same model behind
// `loom serve` see the same tokens and — greedy — give the same text and the same scores.
// Log-likelihoods would need completions with echo + logprobs and max_tokens 0 (the prompt's own
// token log-probabilities); `loom serve` does not offer echo, and OpenAI's current models neither,
// so this model reports SupportsLogLikelihood = false and the runner refuses multiple-choice and
// log-likelihood tasks up front, naming the task. Requests of a chunk go out concurrently (bounded
// by MaxConcurrency) so the server's batching can work.
using System.Text.Json.Nodes;
using Loom.Evaluation.Harness;

namespace Loom.Evaluation.Endpoints;

/// <summary>Harness scoring through an endpoint (generation only).</summary>
public sealed class EndpointTaskModel(OpenAIEndpoint endpoint) : ITaskModel
{
    /// <summary>Requests in flight at once.</summary>
    public int MaxConcurrency { get; init; } = 8;

    public string Name => endpoint.Model.Length > 0 ? $"{endpoint.Model} @ {endpoint.BaseAddress}" : endpoint.BaseAddress.ToString();

    public bool SupportsLogLikelihood => false;

    public Task<IReadOnlyList<LogLikelihoodResult>> LogLikelihoodAsync(IReadOnlyList<LogLikelihoodRequest> requests, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{endpoint.BaseAddress}: log-likelihood scoring needs echo + logprobs on /v1/completions, which this client does not use; run multiple-choice and log-likelihood tasks with --model.");

    public async Task<IReadOnlyList<string>> GenerateAsync(IReadOnlyList<GenerationTaskRequest> requests, CancellationToken cancellationToken = default)
    {
        await endpoint.ResolveModelAsync(cancellationToken).ConfigureAwait(false);
        var results = new string[requests.Count];
        using var gate = new SemaphoreSlim(MaxConcurrency);
        await Task.WhenAll(requests.Select(async (r, i) =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var body = new JsonObject
                {
                    ["prompt"] = r.Prompt, ["max_tokens"] = r.MaxNewTokens, ["temperature"] = r.Temperature, ["top_p"] = r.TopP, ["seed"] = r.Seed,
                };
                // OpenAI allows at most 4 stop sequences; the rest are applied to the text afterwards (TaskRunner.CutAtStop).
                var stops = r.Stop.Where(s => s.Length > 0).Take(4).ToList();
                if (stops.Count > 0) body["stop"] = new JsonArray([.. stops.Select(s => (JsonNode)s)]);
                var doc = await endpoint.CompleteAsync(body, cancellationToken).ConfigureAwait(false);
                results[i] = doc["choices"]?[0]?["text"]?.GetValue<string>()
                    ?? throw new InvalidDataException($"{endpoint.BaseAddress}completions answered without choices[0].text.");
            }
            finally { gate.Release(); }
        })).ConfigureAwait(false);
        return results;
    }
}
