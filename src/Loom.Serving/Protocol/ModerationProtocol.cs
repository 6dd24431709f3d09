// POST /v1/moderations in OpenAI's shape. Request: {"input": string | [string], "model"?: string}
// (multi-modal input parts of type "text" are read; image parts are refused). Response:
// {"id": "modr-…", "model", "results": [{"flagged", "categories": {name: bool}, "category_scores":
// {name: score}}]}, one result per input, with the categories the model scores (see
// Guards/ModerationCategories: an unmodelled category is absent, not a claimed 0).
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Serving.Guards;

namespace Loom.Serving.Protocol;

/// <summary>Parsing and answering moderation requests.</summary>
public static class ModerationProtocol
{
    public const string Path = "/v1/moderations";

    /// <summary>Most inputs in one request.</summary>
    public const int MaxInputs = 2048;

    /// <summary>The input texts of a request body; throws a 400 naming the field.</summary>
    public static List<string> ParseInputs(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("The request body must be a JSON object with an \"input\" field.", null, "invalid_type");
        if (!root.TryGetProperty("input", out var input)) throw ApiException.BadRequest("Missing required parameter: 'input' (a string or an array of strings).", "input", "missing_required_parameter");
        var texts = new List<string>();
        if (input.ValueKind == JsonValueKind.String) texts.Add(input.GetString()!);
        else if (input.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in input.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String) texts.Add(item.GetString()!);
                else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("type", out var type) && type.GetString() == "text"
                         && item.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) texts.Add(t.GetString()!);
                else throw ApiException.BadRequest($"input[{texts.Count}] must be a string or a {{\"type\": \"text\", \"text\": ...}} part; this server's moderation model reads text only.", $"input[{texts.Count}]", "invalid_type");
            }
            if (texts.Count == 0) throw ApiException.BadRequest("'input' is an empty array; send at least one text.", "input", "invalid_value");
        }
        else throw ApiException.BadRequest($"'input' is a JSON {input.ValueKind.ToString().ToLowerInvariant()}; it must be a string or an array of strings.", "input", "invalid_type");
        if (texts.Count > MaxInputs) throw ApiException.BadRequest($"'input' has {texts.Count} texts; send at most {MaxInputs} per request.", "input", "invalid_value");
        return texts;
    }

    /// <summary>The response body for <paramref name="verdicts"/>.</summary>
    public static JsonObject Response(string model, IReadOnlyList<ModerationVerdict> verdicts)
    {
        var results = new JsonArray();
        foreach (var v in verdicts)
        {
            var categories = new JsonObject();
            var scores = new JsonObject();
            foreach (var (name, flagged) in v.Categories) categories[name] = flagged;
            foreach (var (name, score) in v.Scores) scores[name] = score;
            results.Add(new JsonObject { ["flagged"] = v.Flagged, ["categories"] = categories, ["category_scores"] = scores });
        }
        return new JsonObject { ["id"] = "modr-" + Guid.NewGuid().ToString("N"), ["model"] = model, ["results"] = results };
    }
}
