// Which ids end a sequence and which one starts a prompt, read from a Hugging Face model directory
// as transformers reads them: generation_config.json's eos_token_id (an int or a list), else
// config.json's, else tokenizer_config.json's eos_token looked up in the tokenizer; BOS only when
// tokenizer_config.json says add_bos_token. Nothing is hard-coded: a model that names no EOS
// generates until max_tokens.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Tokenizers;

namespace Loom.Inference.Engine;

/// <summary>End- and beginning-of-sequence ids of a model directory.</summary>
public static class GenerationConfig
{
    /// <summary>The end-of-sequence ids of <paramref name="directory"/> (empty when none is named).</summary>
    public static IReadOnlyList<int> ReadEndOfSequenceIds(string directory, BpeTokenizer? tokenizer = null)
    {
        foreach (var name in new[] { "generation_config.json", "config.json" })
        {
            var node = ReadJson(Path.Combine(directory, name));
            if (node?["eos_token_id"] is { } eos) return Ids(eos, Path.Combine(directory, name), "eos_token_id");
        }
        var tc = ReadJson(Path.Combine(directory, "tokenizer_config.json"));
        if (tc?["eos_token"] is { } token && tokenizer != null && TokenText(token) is { } text && tokenizer.SpecialTokens.TryGetValue(text, out int id))
            return [id];
        return [];
    }

    /// <summary>The BOS id to put before prompts: only when tokenizer_config.json has add_bos_token true.</summary>
    public static int? ReadBeginningOfSequenceId(string directory, BpeTokenizer tokenizer)
    {
        string path = Path.Combine(directory, "tokenizer_config.json");
        var tc = ReadJson(path);
        if (tc?["add_bos_token"] is not JsonValue add || add.GetValueKind() != JsonValueKind.True) return null;
        if (tc["bos_token"] is { } token && TokenText(token) is { } text)
            return tokenizer.SpecialTokens.TryGetValue(text, out int id) ? id
                : throw new InvalidDataException($"{path}: bos_token \"{text}\" is not a special token of the model's tokenizer; fix tokenizer_config.json or the tokenizer.");
        var config = ReadJson(Path.Combine(directory, "config.json"));
        if (config?["bos_token_id"] is JsonValue v && v.TryGetValue(out int bos)) return bos;
        throw new InvalidDataException($"{path}: add_bos_token is true but neither bos_token nor config.json's bos_token_id names the token.");
    }

    private static string? TokenText(JsonNode token) => token switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        _ => null,
    };

    private static IReadOnlyList<int> Ids(JsonNode node, string path, string field)
    {
        if (node is JsonValue v && v.TryGetValue(out int one)) return [one];
        if (node is JsonArray a)
        {
            var ids = new List<int>();
            foreach (var item in a)
                ids.Add(item is JsonValue iv && iv.TryGetValue(out int id) && id >= 0 ? id
                    : throw new InvalidDataException($"{path}: {field} holds {item?.ToJsonString() ?? "null"}; it must be a token id or a list of token ids."));
            return ids;
        }
        if (node is JsonValue nv && nv.GetValueKind() == JsonValueKind.Null) return [];
        throw new InvalidDataException($"{path}: {field} is {node.ToJsonString()}; it must be a token id or a list of token ids.");
    }

    private static JsonNode? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON (line {e.LineNumber + 1}): {e.Message.Split(" Path:")[0]}", e); }
    }
}
