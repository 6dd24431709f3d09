// OpenAI's /v1/completions over an encoder-decoder (T5) directory: the prompt is the source text,
// encoded as T5Tokenizer does (ids, then </s>), and the completion is its generated target — what
// `loom generate --model T5DIR` prints and transformers' generate returns. Seq2SeqGenerator runs one
// source at a time, so requests are serialized: one generation at a time on a background thread
// (a one-slot semaphore, waited on with the request's token, so a request that times out or whose
// client leaves while queued never runs). Greedy and sampled targets stream token by token (SSE).
// /v1/chat/completions answers 400: a T5 checkpoint has no chat template (its tasks are text
// prefixes such as "translate English to German: "), and /v1/embeddings 400 as well.
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Loom.Inference.Generation;
using Loom.Inference.Seq2Seq;
using Loom.Serving.Logging;
using Loom.Serving.Metrics;

namespace Loom.Serving.Protocol;

/// <summary>Completions on an encoder-decoder model, one generation at a time.</summary>
public sealed class Seq2SeqOpenAIService : IOpenAIService
{
    private static readonly HashSet<string> CompletionFields =
    [
        "model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "n", "stream", "stream_options", "stop", "seed", "user",
        "echo", "logprobs", "suffix", "best_of", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias",
    ];
    private static readonly HashSet<string> StreamOptionFields = ["include_usage", "include_obfuscation"];

    private readonly Seq2SeqTextModel _model;
    private readonly RequestLog? _log;
    private readonly bool _logContent;
    private readonly SemaphoreSlim _turn = new(1, 1);

    public string ModelName { get; }
    public ServerMetrics Metrics { get; }
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>A service over <paramref name="model"/> (the caller owns and disposes it) served as <paramref name="modelName"/>.</summary>
    public Seq2SeqOpenAIService(Seq2SeqTextModel model, string modelName, ServerMetrics metrics, RequestLog? log = null, bool logContent = false)
    {
        _model = model;
        ModelName = modelName;
        Metrics = metrics;
        _log = log;
        _logContent = logContent;
    }

    public JsonObject Models() => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(new JsonObject { ["id"] = ModelName, ["object"] = "model", ["created"] = Created, ["owned_by"] = "loom" }),
    };

    public void Finish(RequestTrace trace, int status) => OpenAIService.Record(Metrics, _log, _logContent, trace, status);

    // No KV pool here: the engine gauges read zero.
    public string RenderMetrics() => Metrics.Render(new Loom.Inference.Engine.EngineStatistics());

    public string Describe() => $"encoder-decoder {_model.Model.GetType().Name.Replace("Model", "", StringComparison.Ordinal).ToLowerInvariant()}, completions only, one request at a time";

    public PreparedRequest Parse(ApiEndpoint endpoint, JsonElement body)
    {
        if (endpoint == ApiEndpoint.ChatCompletions)
            throw ApiException.BadRequest($"The model `{ModelName}` is an encoder-decoder (T5) model: it has no chat template. Send the task text (e.g. \"translate English to German: ...\") as 'prompt' to /v1/completions.", "messages", "chat_not_supported");
        if (endpoint == ApiEndpoint.Embeddings)
            throw ApiException.BadRequest($"The model `{ModelName}` is an encoder-decoder (T5) model served for completions only; it does not embed.", "model");
        var f = new RequestFields(body, CompletionFields);
        string model = f.RequiredString("model");
        if (model != ModelName)
            throw new ApiException(404, "invalid_request_error", $"The model `{model}` does not exist. This server serves `{ModelName}` (see GET /v1/models).", "model", "model_not_found");
        const string why = "not implemented for encoder-decoder (T5) models; leave it out.";
        foreach (var name in new[] { "echo", "logprobs", "suffix", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias" }) f.Unsupported(name, why);
        int n = f.Int("n", int.MinValue) ?? 1;
        if (n < 1 || n > 128) throw ApiException.BadRequest($"'n' must be in [1, 128]; got {n}.", "n");
        if (f.Int("best_of", int.MinValue) is int bestOf && bestOf != n)
            throw ApiException.BadRequest($"'best_of' is supported only equal to n ({n}); got {bestOf}.", "best_of");
        int maxTokens = f.Int("max_tokens", int.MinValue) ?? 16;   // OpenAI's default for completions
        if (maxTokens < 1) throw ApiException.BadRequest($"'max_tokens' must be at least 1; got {maxTokens}.", "max_tokens");
        float temperature = (float)(f.Number("temperature", 0, 2) ?? 1);
        double topP = f.Number("top_p", 0, 1) ?? 1;
        if (topP == 0) throw ApiException.BadRequest("'top_p' must be greater than 0 and at most 1; got 0.", "top_p");

        if (f.Get("prompt") is not { } p) throw ApiException.BadRequest("'prompt' is a required property.", "prompt");
        var texts = new List<string>();
        if (p.ValueKind == JsonValueKind.String) texts.Add(p.GetString()!);
        else if (p.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in p.EnumerateArray())
                texts.Add(x.ValueKind == JsonValueKind.String ? x.GetString()! : throw RequestFields.WrongType($"prompt[{texts.Count}]", x, "a string (token-id prompts are not read by T5 models)"));
            if (texts.Count == 0) throw ApiException.BadRequest("'prompt' must hold at least one prompt; got an empty list.", "prompt", "empty_array");
        }
        else throw RequestFields.WrongType("prompt", p, "a string or an array of strings");

        bool stream = f.Bool("stream") ?? false, usage = false;
        if (f.Object("stream_options") is { } so)
        {
            if (!stream) throw ApiException.BadRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options");
            usage = new RequestFields(so, StreamOptionFields).Bool("include_usage") ?? false;
        }
        var stop = f.Strings("stop", 4);
        if (stop.Any(s => s.Length == 0)) throw ApiException.BadRequest("'stop' must not contain an empty string.", "stop");
        var sampling = new SamplingOptions
        {
            MaxNewTokens = maxTokens, Temperature = temperature, TopP = (float)topP,
            TopK = f.Int("top_k", -1) is int k and > 0 ? k : 0,   // vLLM: -1 or 0 turn it off
            Seed = f.Int("seed") ?? (temperature > 0 ? Random.Shared.Next() : 0),
            N = n, StopSequences = stop,
        };
        return new PreparedRequest
        {
            Endpoint = ApiEndpoint.Completions, Model = model, Prompts = texts.Select(_model.EncodeSource).ToList(), PromptTexts = texts,
            Sampling = sampling, Stream = stream, IncludeUsage = usage,
        };
    }

    public async Task<JsonObject> RunAsync(PreparedRequest r, RequestTrace trace, CancellationToken cancellationToken)
    {
        Begin(r, trace);
        int n = r.Sampling.N, total = r.Prompts.Count * n;
        var text = new System.Text.StringBuilder[total];
        var reasons = new string?[total];
        for (int i = 0; i < total; i++) text[i] = new();
        await foreach (var (i, delta, finish) in Generate(r, trace, cancellationToken).ConfigureAwait(false))
        {
            text[i].Append(delta);
            if (finish != null) reasons[i] = finish;
        }
        Close(trace, text, reasons);
        var choices = new JsonArray();
        for (int i = 0; i < total; i++)
            choices.Add(new JsonObject { ["index"] = i, ["text"] = text[i].ToString(), ["logprobs"] = null, ["finish_reason"] = reasons[i] });
        var body = Envelope(r, NewId());
        body["choices"] = choices;
        body["usage"] = Usage(trace);
        return body;
    }

    public IAsyncEnumerable<JsonObject> StreamAsync(PreparedRequest r, RequestTrace trace, CancellationToken cancellationToken)
    {
        Begin(r, trace);
        return Chunks(r, trace, cancellationToken);
    }

    private async IAsyncEnumerable<JsonObject> Chunks(PreparedRequest r, RequestTrace trace, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string id = NewId();
        int total = r.Prompts.Count * r.Sampling.N;
        var text = new System.Text.StringBuilder[total];
        var reasons = new string?[total];
        for (int i = 0; i < total; i++) text[i] = new();
        await foreach (var (i, delta, finish) in Generate(r, trace, cancellationToken).ConfigureAwait(false))
        {
            text[i].Append(delta);
            if (finish != null) reasons[i] = finish;
            var chunk = Envelope(r, id);
            chunk["choices"] = new JsonArray(new JsonObject { ["index"] = i, ["text"] = delta, ["logprobs"] = null, ["finish_reason"] = finish });
            if (r.IncludeUsage) chunk["usage"] = null;
            yield return chunk;
        }
        Close(trace, text, reasons);
        if (r.IncludeUsage)
        {
            var last = Envelope(r, id);
            last["choices"] = new JsonArray();
            last["usage"] = Usage(trace);
            yield return last;
        }
    }

    // Runs every (prompt, choice) in order on one background thread, holding the model's turn; yields
    // (choice index, text delta, finish reason on the last delta). Choice c of a sampled request uses
    // seed + c, so n choices differ and each is reproducible alone.
    private async IAsyncEnumerable<(int Index, string Delta, string? Finish)> Generate(PreparedRequest r, RequestTrace trace, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        var channel = Channel.CreateUnbounded<(int, string, string?)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var worker = Task.Run(() =>
        {
            try
            {
                int n = r.Sampling.N;
                for (int p = 0; p < r.Prompts.Count; p++)
                    for (int c = 0; c < n; c++)
                    {
                        int index = p * n + c;
                        var options = new Seq2SeqGenerationOptions
                        {
                            MaxNewTokens = r.Sampling.MaxNewTokens,
                            Sampling = new SamplingOptions { Temperature = r.Sampling.Temperature, TopP = r.Sampling.TopP, TopK = r.Sampling.TopK, Seed = unchecked(r.Sampling.Seed + c) },
                        };
                        var result = _model.Generate(r.Prompts[p], options, r.Sampling.StopSequences, delta => channel.Writer.TryWrite((index, delta, null)), cts.Token);
                        lock (trace) trace.CompletionTokens += result.GeneratedTokens;
                        channel.Writer.TryWrite((index, "", result.FinishReason));
                    }
                channel.Writer.TryComplete();
            }
            catch (Exception e) { channel.Writer.TryComplete(e); }
            finally { _turn.Release(); }
        }, CancellationToken.None);
        try
        {
            TimeSpan? last = null;
            await foreach (var item in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (item.Item2.Length > 0)
                {
                    var now = trace.Elapsed;
                    if (trace.TimeToFirstToken == null) { trace.TimeToFirstToken = now; Metrics.TimeToFirstToken.Observe(now.TotalSeconds); }
                    else if (last is { } before) Metrics.InterTokenLatency.Observe((now - before).TotalSeconds);
                    last = now;
                }
                yield return item;
            }
        }
        finally
        {
            // A reader that leaves early (client gone, write failed) stops the generation at its next token.
            cts.Cancel();
            await worker.ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    private JsonObject Envelope(PreparedRequest r, string id) => new()
    {
        ["id"] = id, ["object"] = "text_completion", ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["model"] = r.Model, ["system_fingerprint"] = null,
    };

    private static string NewId() => "cmpl-" + Guid.NewGuid().ToString("N");

    private static JsonObject Usage(RequestTrace t) => new()
    {
        ["prompt_tokens"] = t.PromptTokens, ["completion_tokens"] = t.CompletionTokens, ["total_tokens"] = t.PromptTokens + t.CompletionTokens,
    };

    private static void Begin(PreparedRequest r, RequestTrace trace)
    {
        trace.Model = r.Model;
        trace.PromptTokens = r.Prompts.Sum(p => p.Length);
        trace.Prompt = string.Join("\n", r.PromptTexts);
    }

    private static void Close(RequestTrace trace, System.Text.StringBuilder[] text, string?[] reasons)
    {
        trace.Output = string.Join("\n", text.Select(t => t.ToString()));
        trace.FinishReason = string.Join(",", reasons.Select(f => f ?? "none").Distinct());
    }
}
