// Any OpenAI-compatible chat endpoint (OpenAI, vLLM, `loom serve`) as a classifier: one chat
// completion per text (temperature 0, a few tokens, logprobs with the top 20 alternatives of each
// token). The probability of a class is read from the first answer token's top_logprobs: each
// alternative whose text starts a class name (case-insensitive, after trimming) adds exp(logprob) to
// that class, and the vector is normalised. An endpoint that returns no logprobs gives a one-hot
// vector on the class its answer names; an answer naming no class gives the uniform vector (and is
// counted in Unparsed), so LIME still sees every perturbation.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Explain.Classifiers;

/// <summary>Classifies texts by asking an OpenAI-compatible chat completions endpoint.</summary>
public sealed class EndpointTextClassifier : ITextClassifier, IDisposable
{
    private readonly EndpointClassifierOptions _options;
    private readonly HttpClient _http;
    private readonly string _instruction;
    private long _unparsed;

    public EndpointTextClassifier(EndpointClassifierOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = options.Timeout;
        if (options.ApiKey is { } key) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        _instruction = options.Instruction.Replace("{labels}", string.Join(", ", options.Labels), StringComparison.Ordinal);
    }

    public IReadOnlyList<string> Labels => _options.Labels;

    /// <summary>Answers that named no class (scored uniform).</summary>
    public long Unparsed => Interlocked.Read(ref _unparsed);

    public async Task<double[][]> PredictAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var result = new double[texts.Count][];
        using var gate = new SemaphoreSlim(_options.MaxConcurrency);
        var tasks = texts.Select(async (t, i) =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try { result[i] = await ClassifyAsync(t, cancellationToken).ConfigureAwait(false); }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return result;
    }

    private async Task<double[]> ClassifyAsync(string text, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = _options.Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = _instruction },
                new JsonObject { ["role"] = "user", ["content"] = text }),
            ["temperature"] = 0,
            ["max_tokens"] = 8,
            ["logprobs"] = true,
            ["top_logprobs"] = 20,
        };
        var url = new Uri(_options.BaseUrl.ToString().TrimEnd('/') + "/chat/completions");
        using var response = await _http.PostAsync(url, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct).ConfigureAwait(false);
        string json = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Shorten(json)}");
        JsonNode? choice;
        try { choice = JsonNode.Parse(json)?["choices"]?[0]; }
        catch (JsonException e) { throw new InvalidDataException($"{url} did not answer with JSON ({e.Message}): {Shorten(json)}", e); }
        if (choice is null) throw new InvalidDataException($"{url} answered without choices[0]: {Shorten(json)}");
        var p = new double[Labels.Count];
        if (choice["logprobs"]?["content"]?[0]?["top_logprobs"] is JsonArray top)
        {
            foreach (var alt in top)
            {
                string token = (alt?["token"]?.GetValue<string>() ?? "").Trim();
                if (token.Length == 0 || alt?["logprob"] is not JsonValue lp) continue;
                int c = Match(token, prefix: true);
                if (c >= 0) p[c] += Math.Exp(lp.GetValue<double>());
            }
            double s = p.Sum();
            if (s > 0) { for (int j = 0; j < p.Length; j++) p[j] /= s; return p; }
        }
        string answer = (choice["message"]?["content"]?.GetValue<string>() ?? "").Trim().Trim('.', '"', '\'', '*').Trim();
        int label = Match(answer, prefix: false);
        if (label < 0)
        {
            Interlocked.Increment(ref _unparsed);
            Array.Fill(p, 1.0 / p.Length);
        }
        else p[label] = 1;
        return p;
    }

    // The class a token starts (prefix) or an answer names (whole word at its start); −1 for none or ambiguous.
    private int Match(string s, bool prefix)
    {
        int found = -1;
        for (int j = 0; j < Labels.Count; j++)
        {
            bool hit = prefix
                ? Labels[j].StartsWith(s, StringComparison.OrdinalIgnoreCase)
                : s.StartsWith(Labels[j], StringComparison.OrdinalIgnoreCase) && (s.Length == Labels[j].Length || !char.IsLetterOrDigit(s[Labels[j].Length]));
            if (!hit) continue;
            if (found >= 0 && !prefix) return Labels[j].Length > Labels[found].Length ? j : found;
            if (found >= 0) return -1;   // a token shared by two class names tells nothing
            found = j;
        }
        return found;
    }

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "…";

    public void Dispose() => _http.Dispose();
}
