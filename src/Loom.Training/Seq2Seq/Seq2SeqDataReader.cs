// Reads text-to-text examples from JSONL (optionally .gz): one object per line with a source and a
// target string field (names configurable: {"question": ..., "answer": ...}). A bad record is an
// error naming file:line and the fix, never silently dropped: a missing example changes what the
// model learns, and a mis-named field would otherwise train on nothing.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;

namespace Loom.Training.Seq2Seq;

/// <summary>Reads source/target JSONL.</summary>
public static class Seq2SeqDataReader
{
    /// <summary>All pairs of <paramref name="path"/>; <paramref name="option"/> (e.g. "data.train") names where the path was given, <paramref name="settingPrefix"/> where the field names are set.</summary>
    public static List<TextPair> Read(string path, Seq2SeqDataOptions options, string option = "data.train", string settingPrefix = "seq2seq.")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(settingPrefix);
        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"{option} {path}: unknown format; seq2seq data are .jsonl files (optionally .gz) with \"{options.SourceField}\" and \"{options.TargetField}\" fields.");
        var pairs = new List<TextPair>();
        using (var stream = CompressedInput.Open(path, option))
        using (var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true))
        {
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
                pairs.Add(new TextPair(Field(obj, options.SourceField, settingPrefix + "source_field", where), Field(obj, options.TargetField, settingPrefix + "target_field", where), where));
            }
        }
        if (pairs.Count == 0) throw new InvalidDataException($"{option} {path} holds no examples; give a JSONL file with at least one {{\"{options.SourceField}\": ..., \"{options.TargetField}\": ...}} record.");
        return pairs;
    }

    private static string Field(JsonObject obj, string name, string setting, string where)
    {
        JsonNode? value;
        try
        {
            if (!obj.TryGetPropertyValue(name, out value))
                throw new InvalidDataException($"{where}: the field \"{name}\" is missing (fields here: {string.Join(", ", obj.Select(p => p.Key))}); add it or set {setting}.");
        }
        catch (ArgumentException) { throw new InvalidDataException($"{where}: a key appears twice in this object; keep one."); }
        if (value is not JsonValue v || !v.TryGetValue(out string? s))
            throw new InvalidDataException($"{where}: \"{name}\" is {(value is null ? "null" : value.GetValueKind().ToString().ToLowerInvariant())}, not a string; give the text as a JSON string.");
        if (string.IsNullOrWhiteSpace(s)) throw new InvalidDataException($"{where}: \"{name}\" is empty; remove the line or fill it in.");
        return s;
    }
}
