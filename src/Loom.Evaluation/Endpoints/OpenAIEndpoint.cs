// A minimal client for an OpenAI-compatible HTTP endpoint (`loom serve`, vLLM, llama.cpp's server,
// OpenAI itself): POST /v1/completions and /v1/chat/completions with System.Text.Json, nothing else.
// Plain HttpClient rather than the OpenAI SDK: the harness needs the legacy completions endpoint
// (raw prompts, scored the same way as a local model), which the OpenAI 2.x SDK does not expose, and
// the judge needs only one chat call; this keeps Evaluation free of an HTTP SDK. Errors name the URL,
// the status and the server's own message.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Evaluation.Endpoints;

/// <summary>An OpenAI-compatible endpoint: base URL (…/v1), optional API key, the model name to send.</summary>
public sealed class OpenAIEndpoint : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    public Uri BaseAddress { get; }
    public string Model { get; private set; }

    /// <param name="baseUrl">The API root, e.g. http://127.0.0.1:8080/v1 (a URL without /v1 gets it appended).</param>
    /// <param name="apiKey">Sent as a bearer token when set.</param>
    /// <param name="model">The model name requests carry; null: the first id of GET /v1/models.</param>
    /// <param name="http">A client to use (not disposed here); null: one of our own.</param>
    /// <param name="timeout">Per-request timeout of our own client (default 10 minutes).</param>
    public OpenAIEndpoint(string baseUrl, string? apiKey = null, string? model = null, HttpClient? http = null, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new ArgumentException($"--endpoint {baseUrl} is not an http(s) URL; give the server's API root, e.g. http://127.0.0.1:8080/v1.");
        string root = uri.AbsoluteUri.TrimEnd('/');
        if (!root.EndsWith("/v1", StringComparison.Ordinal)) root += "/v1";
        BaseAddress = new Uri(root + "/");
        _ownsHttp = http is null;
        _http = http ?? new HttpClient { Timeout = timeout ?? TimeSpan.FromMinutes(10) };
        if (apiKey != null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        Model = model ?? "";
    }

    /// <summary>Fills <see cref="Model"/> from GET /v1/models when it was not given.</summary>
    public async Task<string> ResolveModelAsync(CancellationToken cancellationToken = default)
    {
        if (Model.Length > 0) return Model;
        var doc = await SendAsync(HttpMethod.Get, "models", null, cancellationToken).ConfigureAwait(false);
        Model = doc["data"]?[0]?["id"]?.GetValue<string>()
            ?? throw new InvalidDataException($"{BaseAddress}models lists no model; pass --endpoint-model NAME.");
        return Model;
    }

    /// <summary>POST /v1/completions; returns the response object.</summary>
    public async Task<JsonObject> CompleteAsync(JsonObject body, CancellationToken cancellationToken = default)
    {
        body["model"] ??= await ResolveModelAsync(cancellationToken).ConfigureAwait(false);
        return await SendAsync(HttpMethod.Post, "completions", body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /v1/chat/completions with the messages (role, content); returns the first choice's content.</summary>
    public async Task<string> ChatAsync(IReadOnlyList<(string Role, string Content)> messages, float temperature = 0, int maxTokens = 512, int? seed = null, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["model"] = await ResolveModelAsync(cancellationToken).ConfigureAwait(false),
            ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
            ["temperature"] = temperature, ["max_tokens"] = maxTokens,
        };
        if (seed is int s) body["seed"] = s;
        var doc = await SendAsync(HttpMethod.Post, "chat/completions", body, cancellationToken).ConfigureAwait(false);
        return doc["choices"]?[0]?["message"]?["content"]?.GetValue<string>()
            ?? throw new InvalidDataException($"{BaseAddress}chat/completions answered without choices[0].message.content: {Short(doc.ToJsonString())}");
    }

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        var url = new Uri(BaseAddress, path);
        using var request = new HttpRequestMessage(method, url);
        if (body != null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try { response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false); }
        catch (HttpRequestException e) { throw new HttpRequestException($"{url}: {e.Message}; is the server running (e.g. `loom serve --model DIR`)?", e); }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                string message = text;
                try { message = JsonNode.Parse(text)?["error"]?["message"]?.GetValue<string>() ?? text; } catch (JsonException) { }
                throw new HttpRequestException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Short(message)}", null, response.StatusCode);
            }
            try
            {
                return JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{url} answered {Short(text)}, not a JSON object.");
            }
            catch (JsonException e) { throw new InvalidDataException($"{url} answered invalid JSON: {Short(text)}", e); }
        }
    }

    private static string Short(string s) => s.Length <= 300 ? s : s[..300] + "…";

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}
