// The seam between the HTTP layer and what answers OpenAI requests (vLLM's OpenAIServing): the
// endpoints parse, run, stream and account through this interface and never ask which model sits
// behind it. LoomServer.Create picks the implementation once, where the model directory is loaded:
// OpenAIService over the paged batched InferenceEngine for causal models, Seq2SeqOpenAIService over
// Seq2SeqGenerator for encoder-decoder (T5) directories.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Serving.Protocol;

/// <summary>Answers OpenAI requests for one served model.</summary>
public interface IOpenAIService
{
    /// <summary>The model name clients must ask for.</summary>
    string ModelName { get; }
    /// <summary>Parses and validates a body for <paramref name="endpoint"/>; throws <see cref="ApiException"/> (400/404).</summary>
    PreparedRequest Parse(ApiEndpoint endpoint, JsonElement body);
    /// <summary>The whole answer of a non-streamed request.</summary>
    Task<JsonObject> RunAsync(PreparedRequest request, RequestTrace trace, CancellationToken cancellationToken);
    /// <summary>The chunks of a streamed request (the caller adds "data: [DONE]"); a refusal is thrown before the first chunk.</summary>
    IAsyncEnumerable<JsonObject> StreamAsync(PreparedRequest request, RequestTrace trace, CancellationToken cancellationToken);
    /// <summary>GET /v1/models.</summary>
    JsonObject Models();
    /// <summary>Closes <paramref name="trace"/> with <paramref name="status"/>: metrics and the request log.</summary>
    void Finish(RequestTrace trace, int status);
    /// <summary>GET /metrics in Prometheus' text format.</summary>
    string RenderMetrics();
    /// <summary>One line for the startup banner (context, KV pool, or how requests are run).</summary>
    string Describe();
}
