// Reads instruction-tuning data from JSONL (optionally .gz), one example per line, in the layouts the
// Python tools use:
//   chat:    {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}   (TRL, OpenAI)
//   Alpaca:  {"instruction": "...", "input": "...", "output": "..."}                           (Taori et al. 2023)
//   Dolly:   {"instruction": "...", "context": "...", "response": "..."}                        (databricks-dolly-15k)
// Alpaca/Dolly map to [user: instruction (+ "\n\n" + input/context when not empty), assistant: output/response].
// Preference data (DPO, as TRL's DPOTrainer reads it): {"prompt": "..." | [messages], "chosen": "...", "rejected": "..."}.
// Every bad record is an error naming file:line and the fix: a silently dropped example changes what
// the model is taught.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;

namespace Loom.Training.Instructions;

/// <summary>Reads chat, Alpaca and Dolly JSONL into conversations, and prompt/chosen/rejected JSONL into preference pairs.</summary>
public static class InstructionDataReader
{
    /// <summary>All conversations of <paramref name="path"/>; <paramref name="option"/> (e.g. "data.train") names where the path was given.</summary>
    public static List<Conversation> ReadConversations(string path, string option = "data.train") =>
        ReadObjects(path, option).Select(r => ToConversation(r.Object, r.Where)).ToList() is { Count: > 0 } list ? list
            : throw new InvalidDataException($"{option} {path} holds no examples; give a JSONL file with at least one conversation.");

    /// <summary>All preference pairs of <paramref name="path"/>: chosen and rejected continue the same prompt.</summary>
    public static List<PreferencePair> ReadPreferences(string path, string option = "data.train") =>
        ReadObjects(path, option).Select(r => ToPair(r.Object, r.Where)).ToList() is { Count: > 0 } list ? list
            : throw new InvalidDataException($"{option} {path} holds no examples; give a JSONL file with at least one {{\"prompt\", \"chosen\", \"rejected\"}} record.");

    private static IEnumerable<(JsonObject Object, string Where)> ReadObjects(string path, string option)
    {
        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"{option} {path}: unknown format; instruction and preference data are .jsonl files (optionally .gz).");
        using var stream = CompressedInput.Open(path, option);
        using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true);
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            string where = $"{path}:{line}";
            JsonNode? node;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e) { throw new InvalidDataException($"{where}: not valid JSON ({e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}); each line must be one JSON object.", e); }
            if (node is not JsonObject obj)
                throw new InvalidDataException($"{where}: a JSON {(node is JsonArray ? "array" : "value")}, not an object; each line must be one JSON object.");
            try { _ = obj.Count; }
            catch (ArgumentException) { throw new InvalidDataException($"{where}: a key appears twice in this object; keep one."); }
            yield return (obj, where);
        }
    }

    /// <summary>One record as a conversation (chat, Alpaca or Dolly layout).</summary>
    public static Conversation ToConversation(JsonObject obj, string where)
    {
        if (obj.ContainsKey("messages")) return new Conversation(Messages(obj["messages"], "messages", where), where);
        if (obj.ContainsKey("instruction"))
        {
            string instruction = Text(obj, "instruction", where, required: true)!;
            string answerField = obj.ContainsKey("output") ? "output" : obj.ContainsKey("response") ? "response"
                : throw new InvalidDataException($"{where}: an Alpaca/Dolly record needs \"output\" (or \"response\") with the answer; add it or remove the line.");
            string? input = obj.ContainsKey("input") ? Text(obj, "input", where, required: false) : obj.ContainsKey("context") ? Text(obj, "context", where, required: false) : null;
            string answer = Text(obj, answerField, where, required: true)!;
            string user = string.IsNullOrWhiteSpace(input) ? instruction : instruction + "\n\n" + input;
            return new Conversation([new("user", user), new("assistant", answer)], where);
        }
        throw new InvalidDataException($"{where}: neither \"messages\" nor \"instruction\"; each line must be {{\"messages\": [{{\"role\": \"user\", \"content\": ...}}, {{\"role\": \"assistant\", \"content\": ...}}]}} or {{\"instruction\": ..., \"input\": ..., \"output\": ...}}.");
    }

    /// <summary>One record as a preference pair.</summary>
    public static PreferencePair ToPair(JsonObject obj, string where)
    {
        foreach (var key in new[] { "prompt", "chosen", "rejected" })
            if (!obj.ContainsKey(key)) throw new InvalidDataException($"{where}: the field \"{key}\" is missing; a preference record is {{\"prompt\": ..., \"chosen\": ..., \"rejected\": ...}}.");
        IReadOnlyList<ChatMessage> prompt = obj["prompt"] is JsonArray
            ? Messages(obj["prompt"], "prompt", where)
            : [new ChatMessage("user", Text(obj, "prompt", where, required: true)!)];
        string chosen = Answer(obj, "chosen", where), rejected = Answer(obj, "rejected", where);
        return new PreferencePair(prompt, chosen, rejected, where);
    }

    // "chosen": "text" or [{"role": "assistant", "content": "text"}] (TRL's conversational form).
    private static string Answer(JsonObject obj, string key, string where)
    {
        string? text = obj[key] is JsonArray a
            ? Messages(a, key, where) is { Count: 1 } m && m[0].Role == "assistant" ? m[0].Content
                : throw new InvalidDataException($"{where}: \"{key}\" as a list must be one assistant message; give the answer text instead.")
            : Text(obj, key, where, required: false);
        if (string.IsNullOrWhiteSpace(text))
            throw new InvalidDataException($"{where}: \"{key}\" is empty; DPO compares the chosen and the rejected answer, so both need text (remove the line or fill it in).");
        return text;
    }

    private static List<ChatMessage> Messages(JsonNode? node, string field, string where)
    {
        if (node is not JsonArray array || array.Count == 0)
            throw new InvalidDataException($"{where}: \"{field}\" must be a non-empty list of {{\"role\": ..., \"content\": ...}} objects.");
        var list = new List<ChatMessage>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject m || m["role"] is not JsonValue r || !r.TryGetValue<string>(out var role) || string.IsNullOrWhiteSpace(role))
                throw new InvalidDataException($"{where}: {field}[{i}] needs a \"role\" string (system, user or assistant).");
            string content = m["content"] is JsonValue c && c.TryGetValue<string>(out var s) ? s
                : throw new InvalidDataException($"{where}: {field}[{i}] ({role}) needs a \"content\" string.");
            list.Add(new ChatMessage(role, content));
        }
        return list;
    }

    private static string? Text(JsonObject obj, string key, string where, bool required)
    {
        var node = obj[key];
        if (node is null)
        {
            if (required) throw new InvalidDataException($"{where}: \"{key}\" is {(obj.ContainsKey(key) ? "null" : "missing")}; give it as text.");
            return null;
        }
        if (node is not JsonValue v || !v.TryGetValue<string>(out var s))
            throw new InvalidDataException($"{where}: \"{key}\" is {(node is JsonArray ? "a list" : node is JsonObject ? "an object" : node.ToJsonString())}; it must be a string.");
        if (required && string.IsNullOrWhiteSpace(s))
            throw new InvalidDataException($"{where}: \"{key}\" is empty; give the text or remove the line.");
        return s;
    }
}
