// What GET /metrics reports, in Prometheus' text exposition format 0.0.4: request counts by endpoint
// and status, tokens in and out, the engine's queue, batch and KV pool (read live from
// InferenceEngine.Statistics), and histograms of time to first token, inter-token latency and
// request latency. Metric names follow vLLM's where one exists (vllm:time_to_first_token_seconds →
// loom_time_to_first_token_seconds).
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Loom.Inference.Engine;

namespace Loom.Serving.Metrics;

/// <summary>The server's counters and histograms.</summary>
public sealed class ServerMetrics
{
    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> _requests = new();
    private long _promptTokens, _completionTokens, _inFlight;

    // Buckets as vLLM's: first tokens from milliseconds to a minute, inter-token from 1 ms to 2.5 s.
    public LatencyHistogram TimeToFirstToken { get; } = new(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80);
    public LatencyHistogram InterTokenLatency { get; } = new(0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5);
    public LatencyHistogram RequestLatency { get; } = new(0.01, 0.05, 0.1, 0.3, 0.5, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120);

    /// <summary>Requests admitted and not yet answered.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    public void Request(string endpoint, int status) => _requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);
    public void Tokens(int prompt, int completion)
    {
        Interlocked.Add(ref _promptTokens, prompt);
        Interlocked.Add(ref _completionTokens, completion);
    }
    public void Enter() => Interlocked.Increment(ref _inFlight);
    public void Leave() => Interlocked.Decrement(ref _inFlight);

    /// <summary>How many requests to <paramref name="endpoint"/> were answered with <paramref name="status"/>.</summary>
    public long Requests(string endpoint, int status) => _requests.TryGetValue((endpoint, status), out long n) ? n : 0;

    /// <summary>The exposition text.</summary>
    public string Render(EngineStatistics engine)
    {
        var sb = new StringBuilder();
        sb.Append("# HELP loom_requests_total Requests answered, by endpoint and HTTP status.\n# TYPE loom_requests_total counter\n");
        foreach (var ((endpoint, status), n) in _requests.OrderBy(p => p.Key.Endpoint, StringComparer.Ordinal).ThenBy(p => p.Key.Status))
            sb.Append("loom_requests_total{endpoint=\"").Append(endpoint).Append("\",status=\"").Append(status).Append("\"} ").Append(n).Append('\n');
        Gauge(sb, "loom_requests_in_flight", "Requests admitted and not yet answered.", InFlight, "gauge");
        Gauge(sb, "loom_prompt_tokens_total", "Prompt tokens of answered requests.", Interlocked.Read(ref _promptTokens), "counter");
        Gauge(sb, "loom_generation_tokens_total", "Tokens generated for answered requests.", Interlocked.Read(ref _completionTokens), "counter");
        Gauge(sb, "loom_queue_length", "Sequences waiting for KV blocks or a batch slot.", engine.Waiting, "gauge");
        Gauge(sb, "loom_running_sequences", "Sequences being decoded.", engine.Running, "gauge");
        Gauge(sb, "loom_batch_size", "Sequences in the engine's last model call.", engine.LastBatchSize, "gauge");
        Gauge(sb, "loom_kv_blocks_used", "KV cache blocks in use.", engine.UsedBlocks, "gauge");
        Gauge(sb, "loom_kv_blocks_total", "KV cache blocks in the pool.", engine.TotalBlocks, "gauge");
        Gauge(sb, "loom_kv_cache_bytes", "Bytes of the KV pool's allocation.", engine.KvCacheBytes, "gauge");
        Gauge(sb, "loom_kv_blocks_cached", "Prefix-cache blocks no sequence holds (evictable, counted free).", engine.CachedBlocks, "gauge");
        Gauge(sb, "loom_prefix_cache_hit_tokens_total", "Prompt tokens whose KV came from the prefix cache instead of a prefill.", engine.PrefixCacheHitTokens, "counter");
        Gauge(sb, "loom_preemptions_total", "Sequences preempted (blocks freed, recomputed later).", engine.Preemptions, "counter");
        Gauge(sb, "loom_engine_steps_total", "Model calls of the engine.", engine.Steps, "counter");
        TimeToFirstToken.Write(sb, "loom_time_to_first_token_seconds", "Time from a request's arrival to its first generated token.");
        InterTokenLatency.Write(sb, "loom_inter_token_latency_seconds", "Time between two generated tokens of one completion.");
        RequestLatency.Write(sb, "loom_request_latency_seconds", "Time from a request's arrival to its last byte.");
        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, long value, string type) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
          .Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
