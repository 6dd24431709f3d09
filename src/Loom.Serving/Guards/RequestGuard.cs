// Applies the prompt-injection guard to an OpenAI request body before it is parsed: the user turns
// of a chat request (string content or text parts) and the prompt(s) of a completion. System and
// assistant turns are the operator's and the model's, and are not scanned. Lives in Loom.Serving
// (not Loom.Inference) because its actions are HTTP ones — a 400 in OpenAI's shape, a response
// header, a rewritten body — and because a learned guard score can come from a `loom finetune`
// classifier, which needs Loom.Training: Serving sits above both, Inference beside Training.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Serving.Protocol;

namespace Loom.Serving.Guards;

/// <summary>The guard's outcome for one request.</summary>
public sealed record GuardOutcome(JsonDocument Body, string? FlagHeader);

/// <summary>Screens request bodies with a <see cref="PromptInjectionGuard"/>.</summary>
public sealed class RequestGuard(PromptInjectionGuard guard, GuardAction action)
{
    /// <summary>Response header a flagged request's answer carries.</summary>
    public const string Header = "X-Loom-Prompt-Injection";

    public GuardAction Action { get; } = action;

    /// <summary>Screens <paramref name="body"/>; throws a 400 <see cref="ApiException"/> on refuse.</summary>
    public GuardOutcome Screen(JsonDocument body, ApiEndpoint endpoint)
    {
        if (Action == GuardAction.Off || endpoint == ApiEndpoint.Embeddings) return new GuardOutcome(body, null);
        var root = JsonNode.Parse(body.RootElement.GetRawText()) as JsonObject;
        if (root is null) return new GuardOutcome(body, null);
        double worst = 0;
        var rules = new SortedSet<string>(StringComparer.Ordinal);
        bool changed = false;
        string Visit(string text)
        {
            var v = guard.Check(text);
            if (!v.Detected) return text;
            worst = Math.Max(worst, v.Score);
            foreach (var f in v.Findings) rules.Add(f.Rule);
            if (Action != GuardAction.Strip) return text;
            changed = true;
            return PromptInjectionGuard.Strip(text, v);
        }
        if (endpoint == ApiEndpoint.ChatCompletions && root["messages"] is JsonArray messages)
        {
            foreach (var m in messages.OfType<JsonObject>())
            {
                if (m["role"]?.GetValueKind() != JsonValueKind.String || (string)m["role"]! != "user") continue;
                if (m["content"] is JsonValue cv && cv.GetValueKind() == JsonValueKind.String) m["content"] = Visit((string)cv!);
                else if (m["content"] is JsonArray parts)
                    foreach (var part in parts.OfType<JsonObject>())
                        if (part["text"] is JsonValue tv && tv.GetValueKind() == JsonValueKind.String) part["text"] = Visit((string)tv!);
            }
        }
        else if (endpoint == ApiEndpoint.Completions)
        {
            if (root["prompt"] is JsonValue pv && pv.GetValueKind() == JsonValueKind.String) root["prompt"] = Visit((string)pv!);
            else if (root["prompt"] is JsonArray prompts)
                for (int i = 0; i < prompts.Count; i++)
                    if (prompts[i] is JsonValue p && p.GetValueKind() == JsonValueKind.String) prompts[i] = Visit((string)p!);
        }
        if (rules.Count == 0) return new GuardOutcome(body, null);
        string header = $"score={worst.ToString("F2", CultureInfo.InvariantCulture)}; rules={string.Join(",", rules)}; action={Action.ToString().ToLowerInvariant()}";
        if (Action == GuardAction.Refuse)
            throw new ApiException(400, "invalid_request_error",
                $"The request was refused: it looks like a prompt injection (score {worst:F2}, rules {string.Join(", ", rules)}). Rephrase it without instructions aimed at the assistant.", "messages", "prompt_injection_detected");
        if (!changed) return new GuardOutcome(body, header);
        body.Dispose();
        return new GuardOutcome(JsonDocument.Parse(root.ToJsonString()), header);
    }
}
