// The protocol layer between HTTP and the engine (vLLM's OpenAIServing): runs a PreparedRequest on
// the engine and shapes the answer as OpenAI's records — chat.completion / text_completion /
// embedding lists, or the chunks of a stream (chat.completion.chunk / text_completion). It knows
// nothing of HTTP: the server writes what it returns as JSON or SSE, the batch runner as JSONL lines.
// Every completion runs through InferenceEngine.GenerateStreamingAsync, so streamed and
// non-streamed answers, and their latency metrics, come from the same tokens.
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Loom.Inference.Chat;
using Loom.Inference.Engine;
using Loom.Inference.Scoring;
using Loom.Serving.Logging;
using Loom.Serving.Metrics;

namespace Loom.Serving.Protocol;

/// <summary>Runs OpenAI requests on an engine.</summary>
public sealed class OpenAIService : IOpenAIService
{
    private readonly InferenceEngine _engine;
    private readonly LoomEmbeddingGenerator? _embedder;
    private readonly RequestLog? _log;
    private readonly bool _logContent;
    private readonly Guards.SelectiveGenerationOptions _selective;

    public RequestParser Parser { get; }
    public ServerMetrics Metrics { get; }
    public InferenceEngine Engine => _engine;
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public OpenAIService(InferenceEngine engine, string modelName, IChatFormatter formatter, ServerMetrics metrics, RequestLog? log = null, bool logContent = false,
        Guards.SelectiveGenerationOptions? selective = null)
    {
        _selective = selective ?? new Guards.SelectiveGenerationOptions();
        _engine = engine;
        _embedder = engine.Model is Loom.Models.IHiddenStateModel ? new LoomEmbeddingGenerator(engine, modelName) : null;
        Parser = new RequestParser(engine, modelName, formatter, (engine.Model as Loom.Models.IHiddenStateModel)?.HiddenSize);
        Metrics = metrics;
        _log = log;
        _logContent = logContent;
    }

    /// <inheritdoc/>
    public string ModelName => Parser.ModelName;

    /// <inheritdoc/>
    public PreparedRequest Parse(ApiEndpoint endpoint, System.Text.Json.JsonElement body) => Parser.Parse(endpoint, body);

    /// <inheritdoc/>
    public string RenderMetrics() => Metrics.Render(_engine.Statistics);

    /// <inheritdoc/>
    public string Describe() => $"context {_engine.ContextLength}, KV pool {_engine.Statistics.TotalBlocks} blocks";

    /// <summary>GET /v1/models.</summary>
    public JsonObject Models() => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(new JsonObject
        {
            ["id"] = Parser.ModelName, ["object"] = "model", ["created"] = Created, ["owned_by"] = "loom",
            ["max_model_len"] = _engine.ContextLength,
        }),
    };

    /// <summary>Closes <paramref name="trace"/> with <paramref name="status"/>: metrics and the request log.</summary>
    public void Finish(RequestTrace trace, int status) => Record(Metrics, _log, _logContent, trace, status);

    /// <summary>The accounting every <see cref="IOpenAIService"/> does when a request ends.</summary>
    internal static void Record(ServerMetrics metrics, RequestLog? log, bool logContent, RequestTrace trace, int status)
    {
        metrics.Request(trace.Endpoint, status);
        metrics.RequestLatency.Observe(trace.Elapsed.TotalSeconds);
        if (status == 200) metrics.Tokens(trace.PromptTokens, trace.CompletionTokens);
        log?.Append(new RequestLogEntry
        {
            Time = trace.Time, KeyId = trace.KeyId, Endpoint = trace.Endpoint, Model = trace.Model, Status = status,
            PromptTokens = trace.PromptTokens, CompletionTokens = trace.CompletionTokens,
            TimeToFirstTokenMs = trace.TimeToFirstToken?.TotalMilliseconds, LatencyMs = trace.Elapsed.TotalMilliseconds,
            FinishReason = trace.FinishReason,
            Prompt = logContent ? trace.Prompt : null, Output = logContent ? trace.Output : null,
        });
    }

    /// <summary>The whole answer of a non-streamed request.</summary>
    public async Task<JsonObject> RunAsync(PreparedRequest r, RequestTrace trace, CancellationToken cancellationToken)
    {
        Begin(r, trace);
        if (r.Endpoint == ApiEndpoint.Embeddings) return await EmbedAsync(r, trace, cancellationToken).ConfigureAwait(false);
        // echo: the prompt's own token log-probs come from one forward over it (PromptLogprobs), before any generation.
        var echoed = r.Echo && r.Sampling.Logprobs ? new PromptTokenLogprob[r.Prompts.Count][] : null;
        if (echoed != null)
            for (int p = 0; p < r.Prompts.Count; p++)
            {
                try { echoed[p] = await PromptLogprobs.ComputeAsync(_engine, r.Prompts[p], r.Sampling.TopLogprobs, cancellationToken).ConfigureAwait(false); }
                catch (ObjectDisposedException) { throw ShuttingDown(); }
            }
        bool generate = r.Sampling.MaxNewTokens > 0;
        var source = generate ? Generate(r, trace, cancellationToken) : Empty();
        int n = r.Sampling.N, total = r.Prompts.Count * n;
        var text = new System.Text.StringBuilder[total];
        var tokens = new List<GenerationChunk>[total];
        var reasons = new FinishReason?[total];
        var confidence = new GenerationConfidence?[total];
        for (int i = 0; i < total; i++) { text[i] = new(); tokens[i] = new(); if (!generate) reasons[i] = FinishReason.Length; }
        await foreach (var (p, c) in source.ConfigureAwait(false))
        {
            int i = p * n + c.Index;
            text[i].Append(c.Text);
            if (c.TokenId != null && r.Sampling.Logprobs) tokens[i].Add(c);
            if (c.FinishReason is { } f) reasons[i] = f;
            if (c.Confidence is { } conf) confidence[i] = conf;
        }
        cancellationToken.ThrowIfCancellationRequested();
        Close(trace, text.Select(t => t.ToString()), reasons);
        bool chat = r.Endpoint == ApiEndpoint.ChatCompletions;
        var choices = new JsonArray();
        for (int i = 0; i < total; i++)
        {
            var choice = new JsonObject { ["index"] = i };
            // Selective generation: below --min-confidence the answer is withheld (abstain) or marked (warn).
            bool low = _selective.IsLow(confidence[i]);
            string answer = low && _selective.Action == Guards.LowConfidenceAction.Abstain ? _selective.AbstainText : text[i].ToString();
            if (chat) choice["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer, ["refusal"] = null };
            else choice["text"] = r.Echo ? r.PromptTexts[i / n] + answer : answer;
            choice["logprobs"] = !r.Sampling.Logprobs ? null : chat ? ChatLogprobs(tokens[i])
                : echoed != null ? EchoLogprobs(r.Prompts[i / n], r.PromptTexts[i / n], echoed[i / n], tokens[i]) : CompletionLogprobs(tokens[i]);
            choice["finish_reason"] = reasons[i]?.ToWireName();
            if (confidence[i] is { } conf) choice["confidence"] = ConfidenceJson(conf);
            if (low) choice[_selective.Action == Guards.LowConfidenceAction.Abstain ? "abstained" : "warning"] =
                _selective.Action == Guards.LowConfidenceAction.Abstain ? true : _selective.Warning(confidence[i]!);
            choices.Add(choice);
        }
        var body = Envelope(r, chat ? "chat.completion" : "text_completion", NewId(r));
        body["choices"] = choices;
        body["usage"] = Usage(trace);
        return body;
    }

    /// <summary>The chunks of a streamed request, in OpenAI's chunk format (the caller adds "data: [DONE]").</summary>
    /// <remarks>The request is submitted before this returns, so a refusal (503 while shutting down) is thrown here, before any byte is sent.</remarks>
    public IAsyncEnumerable<JsonObject> StreamAsync(PreparedRequest r, RequestTrace trace, CancellationToken cancellationToken)
    {
        Begin(r, trace);
        return StreamChunks(r, trace, Generate(r, trace, cancellationToken), cancellationToken);
    }

    private async IAsyncEnumerable<JsonObject> StreamChunks(PreparedRequest r, RequestTrace trace, IAsyncEnumerable<(int Prompt, GenerationChunk Chunk)> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        bool chat = r.Endpoint == ApiEndpoint.ChatCompletions;
        string id = NewId(r), type = chat ? "chat.completion.chunk" : "text_completion";
        int n = r.Sampling.N, total = r.Prompts.Count * n;
        var text = new System.Text.StringBuilder[total];
        var reasons = new FinishReason?[total];
        for (int i = 0; i < total; i++) text[i] = new();
        if (chat)
            // OpenAI opens each choice with the assistant role and empty content.
            for (int i = 0; i < total; i++)
                yield return Chunk(r, type, id, Choice(chat, i, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, null));
        await foreach (var (p, c) in source.ConfigureAwait(false))
        {
            int i = p * n + c.Index;
            text[i].Append(c.Text);
            if (c.FinishReason is { } f) reasons[i] = f;
            if (c.FinishReason == FinishReason.Cancelled) continue;
            bool hasLogprob = r.Sampling.Logprobs && c.TokenId != null;
            if (c.Text.Length == 0 && !hasLogprob && c.FinishReason == null) continue;   // a held-back piece: nothing to say yet
            JsonNode? logprobs = hasLogprob ? (chat ? ChatLogprobs([c]) : CompletionLogprobs([c])) : null;
            var delta = chat ? new JsonObject { ["content"] = c.Text.Length > 0 || hasLogprob ? c.Text : null } : null;
            if (chat && delta!["content"] == null) delta.Remove("content");
            var streamed = Choice(chat, i, chat ? delta! : (JsonNode)c.Text, logprobs, c.FinishReason?.ToWireName());
            if (c.Confidence is { } conf)
            {
                // The text is already out: the last chunk carries the confidence and, when low, the warning.
                streamed["confidence"] = ConfidenceJson(conf);
                if (_selective.IsLow(conf)) streamed["warning"] = _selective.Warning(conf);
            }
            yield return Chunk(r, type, id, streamed);
        }
        cancellationToken.ThrowIfCancellationRequested();
        Close(trace, text.Select(t => t.ToString()), reasons);
        if (r.IncludeUsage)
        {
            var last = Envelope(r, type, id);
            last["choices"] = new JsonArray();
            last["usage"] = Usage(trace);
            yield return last;
        }
    }

    private JsonObject Chunk(PreparedRequest r, string type, string id, JsonObject choice)
    {
        var chunk = Envelope(r, type, id);
        chunk["choices"] = new JsonArray(choice);
        if (r.IncludeUsage) chunk["usage"] = null;
        return chunk;
    }

    private static JsonObject Choice(bool chat, int index, JsonNode delta, JsonNode? logprobs, string? finish)
    {
        var choice = new JsonObject { ["index"] = index };
        choice[chat ? "delta" : "text"] = delta;
        choice["logprobs"] = logprobs;
        choice["finish_reason"] = finish;
        return choice;
    }

    private JsonObject Envelope(PreparedRequest r, string type, string id) => new()
    {
        ["id"] = id, ["object"] = type, ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["model"] = r.Model, ["system_fingerprint"] = null,
    };

    private static string NewId(PreparedRequest r) =>
        (r.Endpoint == ApiEndpoint.ChatCompletions ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");

    private static JsonObject Usage(RequestTrace t) => new()
    {
        ["prompt_tokens"] = t.PromptTokens, ["completion_tokens"] = t.CompletionTokens, ["total_tokens"] = t.PromptTokens + t.CompletionTokens,
    };

    private void Begin(PreparedRequest r, RequestTrace trace)
    {
        trace.Model = r.Model;
        trace.PromptTokens = r.Prompts.Sum(p => p.Length);
        trace.Prompt = string.Join("\n", r.PromptTexts);
    }

    private static void Close(RequestTrace trace, IEnumerable<string> outputs, FinishReason?[] reasons)
    {
        trace.Output = string.Join("\n", outputs);
        trace.FinishReason = string.Join(",", reasons.Select(f => f?.ToWireName() ?? "none").Distinct());
    }

    // Submits every prompt of the request to the engine at once (continuous batching does the rest),
    // eagerly so refusals are thrown here; the returned stream yields (prompt index, chunk) as they
    // come, timing first tokens and inter-token gaps. Leaving it early cancels what is left.
    private IAsyncEnumerable<(int Prompt, GenerationChunk Chunk)> Generate(PreparedRequest r, RequestTrace trace, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var streams = new List<IAsyncEnumerable<GenerationChunk>>();
        try
        {
            foreach (var prompt in r.Prompts)
                streams.Add(_engine.GenerateStreamingAsync(new GenerationRequest { PromptTokens = prompt, Sampling = r.Sampling }, cts.Token));
        }
        catch (Exception e)
        {
            cts.Cancel();
            cts.Dispose();
            throw e switch
            {
                ObjectDisposedException => ShuttingDown(),
                ArgumentException => ApiException.BadRequest(e.Message),
                InvalidOperationException => ApiException.BadRequest(e.Message, null, "context_length_exceeded"),
                _ => e,
            };
        }
        return ReadMerged(r, trace, streams, cts);
    }

    private async IAsyncEnumerable<(int Prompt, GenerationChunk Chunk)> ReadMerged(PreparedRequest r, RequestTrace trace, List<IAsyncEnumerable<GenerationChunk>> streams, CancellationTokenSource cts)
    {
        var channel = Channel.CreateUnbounded<(int, GenerationChunk)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = streams.Select(async (s, i) =>
        {
            await foreach (var c in s.ConfigureAwait(false)) channel.Writer.TryWrite((i, c));
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);
        try
        {
            int n = r.Sampling.N;
            var last = new TimeSpan?[r.Prompts.Count * n];
            int completion = 0;
            await foreach (var (p, c) in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (c.TokenId != null)
                {
                    var now = trace.Elapsed;
                    int i = p * n + c.Index;
                    if (trace.TimeToFirstToken == null)
                    {
                        trace.TimeToFirstToken = now;
                        Metrics.TimeToFirstToken.Observe(now.TotalSeconds);
                    }
                    if (last[i] is { } before) Metrics.InterTokenLatency.Observe((now - before).TotalSeconds);
                    last[i] = now;
                }
                if (c.Usage is { } u) completion += u.CompletionTokens;
                trace.CompletionTokens = completion;
                yield return (p, c);
            }
        }
        finally
        {
            // A reader that leaves early (client gone, write failed) frees the engine's blocks at its next step.
            cts.Cancel();
            await Task.WhenAll(pumps).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            cts.Dispose();
        }
    }

    private static JsonObject ConfidenceJson(GenerationConfidence c) => new()
    {
        ["mean_logprob"] = Math.Round(c.MeanLogprob, 6), ["mean_entropy"] = Math.Round(c.MeanEntropy, 6), ["tokens"] = c.Tokens,
    };

    public static ApiException ShuttingDown() =>
        new(503, "server_error", "The server is shutting down; retry against another instance or later.", null, "server_shutting_down") { RetryAfterSeconds = 5 };

    private JsonObject ChatLogprobs(IEnumerable<GenerationChunk> chunks)
    {
        var content = new JsonArray();
        foreach (var c in chunks)
        {
            var entry = TokenEntry(c.TokenId!.Value, c.Logprob ?? 0);
            var top = new JsonArray();
            foreach (var t in c.TopLogprobs ?? []) top.Add(TokenEntry(t.TokenId, t.Logprob));
            entry["top_logprobs"] = top;
            content.Add(entry);
        }
        return new JsonObject { ["content"] = content, ["refusal"] = null };
    }

    private JsonObject TokenEntry(int id, float logprob)
    {
        var bytes = _engine.Tokenizer.TokenBytes(id).ToArray();
        return new JsonObject
        {
            ["token"] = System.Text.Encoding.UTF8.GetString(bytes), ["logprob"] = logprob,
            ["bytes"] = new JsonArray(bytes.Select(b => (JsonNode)(int)b).ToArray()),
        };
    }

#pragma warning disable CS1998   // an empty stream for echo with max_tokens 0
    private static async IAsyncEnumerable<(int Prompt, GenerationChunk Chunk)> Empty() { yield break; }
#pragma warning restore CS1998

    // OpenAI's legacy logprobs for echo: the prompt's tokens first (the first one's token_logprobs and
    // top_logprobs null, as OpenAI's), then the generated ones. text_offset indexes the echoed text
    // (prompt + completion); a prompt token's offset is the length of the decoded tokens before it,
    // shifted so the decoded prompt's end meets the prompt text's end (a BOS token that decodes to
    // marker text then sits at offset 0, before the first character).
    private JsonObject EchoLogprobs(int[] ids, string promptText, PromptTokenLogprob[] scored, IEnumerable<GenerationChunk> generated)
    {
        var tok = _engine.Tokenizer;
        JsonArray tokens = [], lps = [], tops = [], offsets = [];
        int shift = tok.Decode(ids).Length - promptText.Length;
        for (int t = 0; t < ids.Length; t++)
        {
            tokens.Add(tok.Decode([ids[t]]));
            lps.Add(scored[t].Logprob is double lp ? (JsonNode)lp : null);
            if (t == 0) tops.Add(null);
            else
            {
                var top = new JsonObject();
                // Two ids can decode to the same text (BPE reaches a string by different merges); the key keeps the likelier.
                foreach (var (id, alt) in scored[t].Top) top.TryAdd(tok.Decode([id]), alt);
                tops.Add(top);
            }
            offsets.Add(Math.Max(0, tok.Decode(ids.AsSpan(0, t).ToArray()).Length - shift));
        }
        var rest = CompletionLogprobs(generated, promptText.Length);
        foreach (var key in new[] { "tokens", "token_logprobs", "top_logprobs", "text_offset" })
        {
            var into = key switch { "tokens" => tokens, "token_logprobs" => lps, "top_logprobs" => tops, _ => offsets };
            foreach (var x in rest[key]!.AsArray().ToList()) into.Add(x?.DeepClone());
        }
        return new JsonObject { ["tokens"] = tokens, ["token_logprobs"] = lps, ["top_logprobs"] = tops, ["text_offset"] = offsets };
    }

    private JsonObject CompletionLogprobs(IEnumerable<GenerationChunk> chunks, int offset = 0)
    {
        JsonArray tokens = [], lps = [], tops = [], offsets = [];
        foreach (var c in chunks)
        {
            string token = _engine.Tokenizer.Decode([c.TokenId!.Value]);
            tokens.Add(token);
            lps.Add(c.Logprob ?? 0);
            var top = new JsonObject();
            foreach (var t in c.TopLogprobs ?? []) top[t.Text] = t.Logprob;
            tops.Add(top);
            offsets.Add(offset);
            offset += token.Length;
        }
        return new JsonObject { ["tokens"] = tokens, ["token_logprobs"] = lps, ["top_logprobs"] = tops, ["text_offset"] = offsets };
    }

    private async Task<JsonObject> EmbedAsync(PreparedRequest r, RequestTrace trace, CancellationToken cancellationToken)
    {
        var data = new JsonArray();
        for (int i = 0; i < r.PromptTexts.Count; i++)
        {
            float[] v;
            try { v = await _embedder!.EmbedAsync(r.PromptTexts[i], cancellationToken).ConfigureAwait(false); }
            catch (ObjectDisposedException) { throw ShuttingDown(); }
            JsonNode embedding = r.Base64
                ? Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()))   // little-endian float32, as OpenAI's base64
                : new JsonArray(v.Select(x => (JsonNode)x).ToArray());
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
        }
        trace.FinishReason = null;
        return new JsonObject
        {
            ["object"] = "list", ["data"] = data, ["model"] = r.Model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = trace.PromptTokens, ["total_tokens"] = trace.PromptTokens },
        };
    }
}
