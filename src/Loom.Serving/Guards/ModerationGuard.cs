// Screens requests and answers with the moderation model (`loom serve --moderation-model DIR
// --moderate input|output|both --moderation-action flag|refuse`), beside the prompt-injection guard:
// the same texts are read (user turns of a chat, prompts of a completion; system and assistant turns
// are the operator's and the model's), the same actions exist. Input: flag adds the X-Loom-Moderation
// header, refuse answers 400 with code content_flagged before anything is generated. Output (non-
// streamed answers only — a streamed answer is already sent when it is complete): flag adds the
// header, refuse empties the flagged choice's text and sets its finish_reason to "content_filter",
// as OpenAI-compatible servers (Azure OpenAI) report filtered answers.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Serving.Protocol;

namespace Loom.Serving.Guards;

/// <summary>The moderation screen of the server.</summary>
public sealed class ModerationGuard(ContentModerator? moderator, ModerationScope scope, GuardAction action)
{
    /// <summary>Response header a flagged request's answer carries.</summary>
    public const string Header = "X-Loom-Moderation";

    public ContentModerator? Moderator { get; } = moderator;
    public ModerationScope Scope { get; } = moderator is null ? ModerationScope.None : scope;
    public GuardAction Action { get; } = action;

    /// <summary>Screens the user texts of <paramref name="body"/>: null when nothing is flagged, else the header value; throws a 400 on refuse.</summary>
    public async Task<string?> ScreenInputAsync(JsonElement body, ApiEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (!Scope.HasFlag(ModerationScope.Input) || endpoint == ApiEndpoint.Embeddings) return null;
        var texts = UserTexts(body, endpoint);
        if (texts.Count == 0) return null;
        var verdicts = await Moderator!.ModerateAsync(texts, cancellationToken).ConfigureAwait(false);
        var flagged = verdicts.Where(v => v.Flagged).ToList();
        if (flagged.Count == 0) return null;
        string header = HeaderValue("input", flagged);
        if (Action == GuardAction.Refuse)
            throw new ApiException(400, "invalid_request_error",
                $"The request was refused by the server's moderation model ({Moderator.ModelName}): its text was flagged as {string.Join(", ", flagged.Select(v => v.FlaggedList).Distinct())} (score {flagged.Max(v => v.MaxScore):F2}). Rephrase it.",
                endpoint == ApiEndpoint.ChatCompletions ? "messages" : "prompt", "content_flagged");
        return header;
    }

    /// <summary>
    /// Refuses <c>stream: true</c> while answers are screened: a streamed answer is on the wire before it
    /// is complete, so it could not be screened, and serving it unscreened would silently bypass the
    /// operator's <c>--moderate output</c>.
    /// </summary>
    public void RequireUnstreamedWhenScreening(ApiEndpoint endpoint)
    {
        if (!Scope.HasFlag(ModerationScope.Output) || endpoint == ApiEndpoint.Embeddings) return;
        throw new ApiException(400, "invalid_request_error",
            "This server screens answers (loom serve --moderate output|both), and a streamed answer cannot be screened before it is sent; send \"stream\": false.",
            "stream", "stream_not_screened");
    }

    /// <summary>Screens the choices of a non-streamed answer in place: null when nothing is flagged, else the header value.</summary>
    public async Task<string?> ScreenOutputAsync(JsonObject answer, ApiEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (!Scope.HasFlag(ModerationScope.Output) || endpoint == ApiEndpoint.Embeddings || answer["choices"] is not JsonArray choices) return null;
        bool chat = endpoint == ApiEndpoint.ChatCompletions;
        var texts = new List<string>();
        var owners = new List<JsonObject>();
        foreach (var choice in choices.OfType<JsonObject>())
        {
            var holder = chat ? choice["message"] as JsonObject : choice;
            if (holder?[chat ? "content" : "text"] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0) { texts.Add(s); owners.Add(choice); }
        }
        if (texts.Count == 0) return null;
        var verdicts = await Moderator!.ModerateAsync(texts, cancellationToken).ConfigureAwait(false);
        var flagged = new List<ModerationVerdict>();
        for (int i = 0; i < verdicts.Length; i++)
        {
            if (!verdicts[i].Flagged) continue;
            flagged.Add(verdicts[i]);
            if (Action != GuardAction.Refuse) continue;
            var choice = owners[i];
            if (chat) choice["message"]!["content"] = "";
            else choice["text"] = "";
            choice["finish_reason"] = "content_filter";
        }
        return flagged.Count == 0 ? null : HeaderValue("output", flagged);
    }

    private string HeaderValue(string where, List<ModerationVerdict> flagged) =>
        $"{where}; categories={string.Join(",", flagged.SelectMany(v => v.Categories.Where(c => c.Value).Select(c => c.Key)).Distinct().Order(StringComparer.Ordinal))}; " +
        $"score={flagged.Max(v => v.MaxScore).ToString("F2", CultureInfo.InvariantCulture)}; action={Action.ToString().ToLowerInvariant()}";

    /// <summary>The texts a guard reads: user turns (string content or text parts) of a chat, the prompt(s) of a completion.</summary>
    public static List<string> UserTexts(JsonElement root, ApiEndpoint endpoint)
    {
        var texts = new List<string>();
        if (root.ValueKind != JsonValueKind.Object) return texts;
        if (endpoint == ApiEndpoint.ChatCompletions && root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in messages.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String || role.GetString() != "user") continue;
                if (!m.TryGetProperty("content", out var content)) continue;
                if (content.ValueKind == JsonValueKind.String) texts.Add(content.GetString()!);
                else if (content.ValueKind == JsonValueKind.Array)
                    foreach (var part in content.EnumerateArray())
                        if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) texts.Add(t.GetString()!);
            }
        }
        else if (endpoint == ApiEndpoint.Completions && root.TryGetProperty("prompt", out var prompt))
        {
            if (prompt.ValueKind == JsonValueKind.String) texts.Add(prompt.GetString()!);
            else if (prompt.ValueKind == JsonValueKind.Array)
                foreach (var p in prompt.EnumerateArray())
                    if (p.ValueKind == JsonValueKind.String) texts.Add(p.GetString()!);
        }
        return texts.Where(t => t.Length > 0).ToList();
    }
}
