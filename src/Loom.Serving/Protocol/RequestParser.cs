// Validates OpenAI request bodies and turns them into PreparedRequests: field types and ranges (400
// naming the field), the model name (404 when it is not the served one), the chat template, the
// prompt's tokens and the context limit (400 context_length_exceeded, worded as OpenAI words it).
// Parameter ranges are OpenAI's API reference's; top_k, min_p, repetition_penalty and
// stop_token_ids are vLLM's extensions, accepted with vLLM's meaning.
using System.Text.Json;
using Loom.Inference.Chat;
using Loom.Inference.Engine;
using Loom.Inference.Generation;

namespace Loom.Serving.Protocol;

/// <summary>Turns request bodies into <see cref="PreparedRequest"/>s for one engine and one served model.</summary>
public sealed class RequestParser
{
    private static readonly HashSet<string> Sampling =
    [
        "model", "max_tokens", "temperature", "top_p", "n", "stream", "stream_options", "stop", "presence_penalty",
        "frequency_penalty", "logit_bias", "logprobs", "seed", "user", "top_k", "min_p", "repetition_penalty", "stop_token_ids",
    ];
    private static readonly HashSet<string> ChatFields =
    [
        .. Sampling, "messages", "max_completion_tokens", "top_logprobs", "store", "metadata", "service_tier", "parallel_tool_calls",
        "response_format", "tools", "tool_choice", "modalities", "reasoning_effort", "stream_options",
    ];
    private static readonly HashSet<string> CompletionFields = [.. Sampling, "prompt", "echo", "best_of", "suffix"];
    private static readonly HashSet<string> EmbeddingFields = ["model", "input", "encoding_format", "dimensions", "user"];

    private readonly InferenceEngine _engine;
    private readonly IChatFormatter _formatter;
    private readonly int? _hiddenSize;

    /// <summary>The model name clients must ask for.</summary>
    public string ModelName { get; }

    public RequestParser(InferenceEngine engine, string modelName, IChatFormatter formatter, int? hiddenSize)
    {
        _engine = engine;
        ModelName = modelName;
        _formatter = formatter;
        _hiddenSize = hiddenSize;
    }

    /// <summary>Parses and validates <paramref name="body"/> for <paramref name="endpoint"/>; throws <see cref="ApiException"/>.</summary>
    public PreparedRequest Parse(ApiEndpoint endpoint, JsonElement body) => endpoint switch
    {
        ApiEndpoint.ChatCompletions => ParseChat(new RequestFields(body, ChatFields)),
        ApiEndpoint.Completions => ParseCompletion(new RequestFields(body, CompletionFields)),
        _ => ParseEmbeddings(new RequestFields(body, EmbeddingFields)),
    };

    private string Model(RequestFields f)
    {
        string model = f.RequiredString("model");
        if (model != ModelName)
            throw new ApiException(404, "invalid_request_error", $"The model `{model}` does not exist. This server serves `{ModelName}` (see GET /v1/models).", "model", "model_not_found");
        return model;
    }

    private PreparedRequest ParseChat(RequestFields f)
    {
        string model = Model(f);
        f.Unsupported("tools", "tool calling is not implemented; send the conversation without tools.");
        f.Unsupported("tool_choice", "tool calling is not implemented.");
        if (f.Object("response_format") is { } rf && !(rf.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "text"))
            throw ApiException.BadRequest("'response_format' is not supported except {\"type\": \"text\"}; structured outputs are not implemented.", "response_format");
        if (f.Get("messages") is not { } messages) throw ApiException.BadRequest("'messages' is a required property.", "messages");
        if (messages.ValueKind != JsonValueKind.Array) throw RequestFields.WrongType("messages", messages, "an array of messages");
        var turns = new List<ChatTurn>();
        int i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            string at = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) throw RequestFields.WrongType(at, m, "a message object");
            var mf = new RequestFields(m, MessageFields);
            string role = mf.String("role") ?? throw ApiException.BadRequest($"'{at}.role' is a required property.", $"{at}.role");
            if (role is not ("system" or "developer" or "user" or "assistant" or "tool"))
                throw ApiException.BadRequest($"'{at}.role' must be one of system, developer, user, assistant, tool; got \"{role}\".", $"{at}.role");
            turns.Add(new ChatTurn(role, Content(mf, at)));
        }
        if (turns.Count == 0) throw ApiException.BadRequest("'messages' must hold at least one message; got an empty list.", "messages", "empty_array");

        bool logprobs = f.Bool("logprobs") ?? false;
        int top = f.Int("top_logprobs", 0, 20) ?? 0;
        if (top > 0 && !logprobs) throw ApiException.BadRequest("'top_logprobs' needs 'logprobs' set to true.", "top_logprobs");
        int? maxTokens = f.Int("max_completion_tokens", int.MinValue) is int mct ? Positive("max_completion_tokens", mct) : null;
        maxTokens ??= f.Int("max_tokens", int.MinValue) is int mt ? Positive("max_tokens", mt) : null;

        string prompt;
        // A template that refuses the conversation (raise_exception, e.g. roles that do not alternate) is the client's error.
        try { prompt = _formatter.Format(turns); }
        catch (InvalidOperationException e) { throw ApiException.BadRequest($"The model's chat template refused these messages: {e.Message}", "messages"); }
        int[] ids = Encode(prompt);
        var sampling = SamplingFrom(f, ids.Length, maxTokens, "messages", "messages") with
        {
            Logprobs = logprobs,
            TopLogprobs = top,
            StopSequences = [.. f.Strings("stop", 4), .. _formatter.StopSequences],
        };
        return Finish(f, new PreparedRequest { Endpoint = ApiEndpoint.ChatCompletions, Model = model, Prompts = [ids], PromptTexts = [prompt], Sampling = sampling });
    }

    private static readonly HashSet<string> MessageFields = ["role", "content", "name", "tool_calls", "tool_call_id", "refusal"];

    private static string Content(RequestFields mf, string at)
    {
        if (mf.Get("content") is not { } c) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw RequestFields.WrongType($"{at}.content", c, "a string or an array of content parts");
        var sb = new System.Text.StringBuilder();
        int j = 0;
        foreach (var part in c.EnumerateArray())
        {
            string pat = $"{at}.content[{j++}]";
            if (part.ValueKind != JsonValueKind.Object) throw RequestFields.WrongType(pat, part, "a content part object");
            var pf = new RequestFields(part, PartFields);
            string type = pf.RequiredString("type");
            if (type != "text") throw ApiException.BadRequest($"'{pat}.type' is \"{type}\"; this server reads only text parts.", $"{pat}.type");
            sb.Append(pf.RequiredString("text"));
        }
        return sb.ToString();
    }

    private static readonly HashSet<string> PartFields = ["type", "text"];

    private PreparedRequest ParseCompletion(RequestFields f)
    {
        string model = Model(f);
        // echo (OpenAI's legacy completions, lm-eval's local-completions): the prompt comes back before the
        // completion, with its own token log-probs when logprobs is set; max_tokens 0 then scores the prompt only.
        bool echo = f.Bool("echo") ?? false;
        if (echo && (f.Bool("stream") ?? false))
            throw ApiException.BadRequest("'echo' is supported only for non-streamed completions; set 'stream' to false.", "echo");
        f.Unsupported("suffix", "insertion (suffix) is not implemented.");
        int n = f.Int("n", int.MinValue) ?? 1;
        if (f.Int("best_of", int.MinValue) is int bestOf && bestOf != n)
            throw ApiException.BadRequest($"'best_of' is supported only equal to n ({n}); got {bestOf}.", "best_of");
        int? top = f.Int("logprobs", 0, 5);
        int? maxTokens = f.Int("max_tokens", int.MinValue) is int mt ? (echo && mt == 0 ? 0 : Positive("max_tokens", mt)) : 16;   // OpenAI's default for completions

        var texts = new List<string>();
        var prompts = new List<int[]>();
        if (f.Get("prompt") is not { } p) throw ApiException.BadRequest("'prompt' is a required property.", "prompt");
        if (p.ValueKind == JsonValueKind.String) texts.Add(p.GetString()!);
        else if (p.ValueKind == JsonValueKind.Array && p.GetArrayLength() > 0 && p[0].ValueKind == JsonValueKind.Number)
        {
            // A prompt given as token ids, used as given.
            var ids = new List<int>();
            foreach (var x in p.EnumerateArray())
                ids.Add(x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int id) && id >= 0 && id < _engine.Model.VocabularySize ? id
                    : throw ApiException.BadRequest($"'prompt[{ids.Count}]' must be a token id in [0, {_engine.Model.VocabularySize - 1}]; got {x.GetRawText()}.", "prompt"));
            prompts.Add([.. ids]);
            texts.Add(_engine.Tokenizer.Decode([.. ids]));
        }
        else if (p.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in p.EnumerateArray())
                texts.Add(x.ValueKind == JsonValueKind.String ? x.GetString()! : throw RequestFields.WrongType($"prompt[{texts.Count}]", x, "a string"));
            if (texts.Count == 0) throw ApiException.BadRequest("'prompt' must hold at least one prompt; got an empty list.", "prompt", "empty_array");
        }
        else throw RequestFields.WrongType("prompt", p, "a string, an array of strings or an array of token ids");
        if (prompts.Count == 0) prompts.AddRange(texts.Select(Encode));
        foreach (var ids in prompts)
            if (ids.Length == 0) throw ApiException.BadRequest("'prompt' is empty (no tokens) and the model adds no beginning-of-sequence token; give at least one token.", "prompt");

        var sampling = SamplingFrom(f, prompts.Max(x => x.Length), maxTokens, "prompt", "prompt") with
        {
            Logprobs = top != null,
            TopLogprobs = top ?? 0,
            StopSequences = f.Strings("stop", 4),
        };
        return Finish(f, new PreparedRequest { Endpoint = ApiEndpoint.Completions, Model = model, Prompts = prompts, PromptTexts = texts, Sampling = sampling, Echo = echo });
    }

    private PreparedRequest ParseEmbeddings(RequestFields f)
    {
        string model = Model(f);
        string format = f.String("encoding_format") ?? "float";
        if (format is not ("float" or "base64")) throw ApiException.BadRequest($"'encoding_format' must be \"float\" or \"base64\"; got \"{format}\".", "encoding_format");
        if (_hiddenSize == null) throw ApiException.BadRequest($"The model `{ModelName}` exposes no hidden states; it cannot embed.", "model");
        if (f.Int("dimensions", 1) is int d && d != _hiddenSize)
            throw ApiException.BadRequest($"'dimensions' must be the model's hidden size {_hiddenSize} (no truncation is implemented); got {d}.", "dimensions");
        if (f.Get("input") is not { } input) throw ApiException.BadRequest("'input' is a required property.", "input");
        var texts = new List<string>();
        if (input.ValueKind == JsonValueKind.String) texts.Add(input.GetString()!);
        else if (input.ValueKind == JsonValueKind.Array)
            foreach (var x in input.EnumerateArray())
                texts.Add(x.ValueKind == JsonValueKind.String ? x.GetString()! : throw RequestFields.WrongType($"input[{texts.Count}]", x, "a string"));
        else throw RequestFields.WrongType("input", input, "a string or an array of strings");
        if (texts.Count == 0) throw ApiException.BadRequest("'input' must hold at least one text; got an empty list.", "input", "empty_array");
        // Embeddings read the text itself: no BOS, special-token text read as plain text (as LoomEmbeddingGenerator).
        var ids = texts.Select(t => _engine.Tokenizer.Encode(t, Loom.Tokenizers.SpecialTokenPolicy.PlainText)).ToList();
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i].Length == 0) throw ApiException.BadRequest($"'input[{i}]' is empty (no tokens); an embedding needs at least one token.", "input");
            if (ids[i].Length > _engine.ContextLength)
                throw ApiException.BadRequest($"This model's maximum context length is {_engine.ContextLength} tokens. However, input[{i}] has {ids[i].Length} tokens. Shorten it.", "input", "context_length_exceeded");
        }
        return new PreparedRequest { Endpoint = ApiEndpoint.Embeddings, Model = model, Prompts = ids, PromptTexts = texts, Base64 = format == "base64" };
    }

    private int[] Encode(string text) => _engine.EncodePrompt(new GenerationRequest(text));

    private static int Positive(string name, int value) =>
        value >= 1 ? value : throw ApiException.BadRequest($"'{name}' must be at least 1; got {value}.", name);

    // The sampling settings common to chat and completions, with the context check: the longest prompt
    // plus max_tokens must fit (without max_tokens, whatever room is left is the limit).
    private SamplingOptions SamplingFrom(RequestFields f, int promptTokens, int? maxTokens, string promptParam, string promptWord)
    {
        int context = _engine.ContextLength;
        if ((promptTokens >= context && maxTokens != 0) || (maxTokens is int m && promptTokens + (long)m > context))
            throw ApiException.BadRequest(
                $"This model's maximum context length is {context} tokens. However, you requested {promptTokens + (long)(maxTokens ?? 1)} tokens ({promptTokens} in the {promptWord}, {maxTokens ?? 1} in the completion). Please reduce the length of the {promptWord} or max_tokens.",
                promptParam, "context_length_exceeded");
        int n = f.Int("n", int.MinValue) ?? 1;
        if (n < 1 || n > 128) throw ApiException.BadRequest($"'n' must be in [1, 128]; got {n}.", "n");
        float temperature = (float)(f.Number("temperature", 0, 2) ?? 1);
        var bias = new Dictionary<int, float>();
        if (f.Object("logit_bias") is { } lb)
            foreach (var p in lb.EnumerateObject())
            {
                if (!int.TryParse(p.Name, out int id) || id < 0 || id >= _engine.Model.VocabularySize)
                    throw ApiException.BadRequest($"'logit_bias' has the key \"{p.Name}\"; keys are token ids in [0, {_engine.Model.VocabularySize - 1}].", "logit_bias");
                bias[id] = p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetDouble(out double b) && b >= -100 && b <= 100 ? (float)b
                    : throw ApiException.BadRequest($"'logit_bias[\"{p.Name}\"]' must be a number in [-100, 100]; got {p.Value.GetRawText()}.", "logit_bias");
            }
        return new SamplingOptions
        {
            MaxNewTokens = maxTokens ?? context - promptTokens,
            Temperature = temperature,
            TopP = (float)(Above0(f, "top_p", 1) ?? 1),
            TopK = f.Int("top_k", -1) is int k and > 0 ? k : 0,   // vLLM: -1 or 0 turn it off
            MinP = (float)(f.Number("min_p", 0, 1) ?? 0),
            RepetitionPenalty = (float)(Above0(f, "repetition_penalty", 100) ?? 1),
            PresencePenalty = (float)(f.Number("presence_penalty", -2, 2) ?? 0),
            FrequencyPenalty = (float)(f.Number("frequency_penalty", -2, 2) ?? 0),
            LogitBias = bias.Count > 0 ? bias : null,
            StopTokenIds = f.Ints("stop_token_ids"),
            // Without a seed OpenAI's sampling is not reproducible; a fresh seed per request says so.
            Seed = f.Int("seed") ?? (temperature > 0 ? Random.Shared.Next() : 0),
            N = n,
        };
    }

    // A setting in (0, max]: 0 itself is refused with a plain message.
    private static double? Above0(RequestFields f, string name, double max)
    {
        double? v = f.Number(name, 0, max);
        return v == 0 ? throw ApiException.BadRequest($"'{name}' must be greater than 0 and at most {max}; got 0.", name) : v;
    }

    private static PreparedRequest Finish(RequestFields f, PreparedRequest r)
    {
        bool stream = f.Bool("stream") ?? false;
        bool usage = false;
        if (f.Object("stream_options") is { } so)
        {
            if (!stream) throw ApiException.BadRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options");
            var sf = new RequestFields(so, StreamOptionFields);
            usage = sf.Bool("include_usage") ?? false;
        }
        foreach (var s in r.Sampling.StopSequences)
            if (s.Length == 0) throw ApiException.BadRequest("'stop' must not contain an empty string.", "stop");
        return r with { Stream = stream, IncludeUsage = usage };
    }

    private static readonly HashSet<string> StreamOptionFields = ["include_usage", "include_obfuscation"];
}
