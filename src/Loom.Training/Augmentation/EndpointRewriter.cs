// Back-translation (Sennrich et al. 2016; for classification data, Xie et al. 2020 "UDA") and
// paraphrase through any OpenAI-compatible chat endpoint (`loom serve`, vLLM, OpenAI): one chat
// completion per step, the instruction in the system turn and the text in the user turn; the answer's
// first line is kept, trimmed of quotes.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Loom.Training.Augmentation;

/// <summary>Rewrites texts by asking a chat endpoint.</summary>
public sealed class EndpointRewriter : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly string _model;

    /// <summary>A rewriter over the chat endpoint at <paramref name="baseUrl"/> (the API base, e.g. http://127.0.0.1:8080/v1).</summary>
    public EndpointRewriter(Uri baseUrl, string model = "loom", string? apiKey = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != "http" && baseUrl.Scheme != "https"))
            throw new ArgumentException($"--endpoint {baseUrl} must be an absolute http(s) URL such as http://127.0.0.1:8080/v1.");
        _url = new Uri(baseUrl.ToString().TrimEnd('/') + "/chat/completions");
        _model = model;
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromSeconds(120);
        if (apiKey != null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    /// <summary>English → <paramref name="pivot"/> → English.</summary>
    public async Task<AugmentedText> BackTranslateAsync(string text, string pivot, CancellationToken ct = default)
    {
        string there = await AskAsync($"Translate the user's text into {pivot}. Answer with the translation only.", text, 0, ct).ConfigureAwait(false);
        string back = await AskAsync($"Translate the user's text from {pivot} into English. Answer with the translation only.", there, 0, ct).ConfigureAwait(false);
        return new AugmentedText(back, "backtranslate", [$"via {pivot}: {there}"]);
    }

    /// <summary>A paraphrase that keeps meaning and sentiment (temperature 0.7, so repeated calls differ).</summary>
    public async Task<AugmentedText> ParaphraseAsync(string text, CancellationToken ct = default)
    {
        string p = await AskAsync("Paraphrase the user's text: keep its meaning, sentiment and language, change the wording. Answer with the paraphrase only.", text, 0.7, ct).ConfigureAwait(false);
        return new AugmentedText(p, "paraphrase", []);
    }

    private async Task<string> AskAsync(string instruction, string text, double temperature, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = _model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = instruction }, new JsonObject { ["role"] = "user", ["content"] = text }),
            ["temperature"] = temperature,
            ["max_tokens"] = Math.Min(4096, 64 + 2 * text.Length / 3),
        };
        using var response = await _http.PostAsync(_url, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct).ConfigureAwait(false);
        string json = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{_url} answered {(int)response.StatusCode} {response.ReasonPhrase}: {(json.Length > 300 ? json[..300] + "…" : json)}");
        string? content;
        try { content = JsonNode.Parse(json)?["choices"]?[0]?["message"]?["content"]?.GetValue<string>(); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{_url} did not answer with JSON: {e.Message}", e); }
        if (content is null) throw new InvalidDataException($"{_url} answered without choices[0].message.content.");
        return content.Trim().Split('\n')[0].Trim().Trim('"', '“', '”').Trim();
    }

    public void Dispose() => _http.Dispose();
}
