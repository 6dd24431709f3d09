// The task harness's ITaskModel over an OpenAI-compatible endpoint. Generation uses
// /v1/completions with the raw prompt (no chat template), so a local model and the same model behind
// `loom serve` see the same tokens and — greedy — give the same text and the same scores.
// Log-likelihoods as lm-evaluation-harness's `local-completions` model (lm_eval/models/
// openai_completions.py): one completions request per (context, continuation) with prompt =
// context + continuation, echo: true, max_tokens: 0, logprobs: 1; the answer's legacy logprobs
// object holds every prompt token's log-prob. The client has no tokenizer, so the continuation's
// tokens are those whose text_offset is at or past the context's length (after moving the context's
// trailing whitespace to the continuation, as EngineTaskModel/_encode_pair do); their log-probs are
// summed, and the request is greedy when each such token is its position's top_logprobs maximum.
// This equals the local scoring whenever the tokenizer splits at the context's end (BPE with a
// whitespace pre-tokenizer does, since the continuation then starts with its space). An empty context
// is refused: lm-eval scores it after the end-of-text token, which a text prompt cannot name.
// Requests of a chunk go out concurrently (bounded by MaxConcurrency) so the server's batching can work.
using System.Text.Json.Nodes;
using Loom.Evaluation.Harness;

namespace Loom.Evaluation.Endpoints;

/// <summary>Harness scoring through an endpoint: generation, and log-likelihoods via echo + logprobs.</summary>
public sealed class EndpointTaskModel(OpenAIEndpoint endpoint) : ITaskModel
{
    /// <summary>Requests in flight at once.</summary>
    public int MaxConcurrency { get; init; } = 8;

    public string Name => endpoint.Model.Length > 0 ? $"{endpoint.Model} @ {endpoint.BaseAddress}" : endpoint.BaseAddress.ToString();

    public bool SupportsLogLikelihood => true;

    public async Task<IReadOnlyList<LogLikelihoodResult>> LogLikelihoodAsync(IReadOnlyList<LogLikelihoodRequest> requests, CancellationToken cancellationToken = default)
    {
        await endpoint.ResolveModelAsync(cancellationToken).ConfigureAwait(false);
        var results = new LogLikelihoodResult[requests.Count];
        using var gate = new SemaphoreSlim(MaxConcurrency);
        await Task.WhenAll(requests.Select(async (r, i) =>
        {
            string context = r.Context, continuation = r.Continuation;
            int spaces = context.Length - context.TrimEnd().Length;
            if (spaces > 0) { continuation = context[^spaces..] + continuation; context = context[..^spaces]; }
            if (context.Length == 0)
                throw new NotSupportedException($"{endpoint.BaseAddress}: a log-likelihood with an empty context (continuation \"{r.Continuation}\") is scored after the end-of-text token, which a text prompt cannot name; run this task with --model.");
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var body = new JsonObject
                {
                    ["prompt"] = context + continuation, ["echo"] = true, ["max_tokens"] = 0, ["logprobs"] = 1, ["temperature"] = 0,
                };
                var doc = await endpoint.CompleteAsync(body, cancellationToken).ConfigureAwait(false);
                results[i] = Parse(doc, context.Length, r);
            }
            finally { gate.Release(); }
        })).ConfigureAwait(false);
        return results;
    }

    // Sums token_logprobs over the continuation's tokens (text_offset ≥ the context's length).
    private LogLikelihoodResult Parse(JsonObject doc, int contextChars, LogLikelihoodRequest r)
    {
        var lp = doc["choices"]?[0]?["logprobs"] as JsonObject
            ?? throw new InvalidDataException($"{endpoint.BaseAddress}completions answered an echo request without choices[0].logprobs; the server must support echo + logprobs (lm-eval's local-completions).");
        var tokens = lp["tokens"]?.AsArray();
        var lps = lp["token_logprobs"]?.AsArray();
        var offsets = lp["text_offset"]?.AsArray();
        var tops = lp["top_logprobs"]?.AsArray();
        if (tokens == null || lps == null || offsets == null || tops == null || lps.Count != tokens.Count || offsets.Count != tokens.Count || tops.Count != tokens.Count)
            throw new InvalidDataException($"{endpoint.BaseAddress}completions: choices[0].logprobs needs tokens, token_logprobs, text_offset and top_logprobs of equal length.");
        double sum = 0;
        bool greedy = true;
        int count = 0;
        for (int t = 0; t < tokens.Count; t++)
        {
            if (offsets[t]!.GetValue<int>() < contextChars) continue;
            var value = lps[t] ?? throw new InvalidDataException($"{endpoint.BaseAddress}completions: token_logprobs[{t}] is null inside the continuation \"{r.Continuation}\".");
            sum += value.GetValue<double>();
            count++;
            if (tops[t] is JsonObject top && top.Count > 0)
                greedy &= top.MaxBy(kv => kv.Value!.GetValue<double>()).Key == tokens[t]!.GetValue<string>();
            else greedy = false;
        }
        if (count == 0) throw new InvalidDataException($"{endpoint.BaseAddress}completions: no echoed token starts at or after character {contextChars}, so the continuation \"{r.Continuation}\" has no tokens to score.");
        return new LogLikelihoodResult(sum, greedy, count);
    }

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
