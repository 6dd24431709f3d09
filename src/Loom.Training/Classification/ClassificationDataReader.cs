// Reads labelled examples from JSONL (one object per line) or CSV (RFC 4180, header row), plain or
// gzipped. Every bad record is an error naming file:line and what to do — a missing field, an
// empty text, a label of the wrong kind, a ragged CSV row, a line that is not JSON — because a
// silently dropped example changes the class balance the user thinks they trained on
// (docs/RELIABILITY.md, "Fine-tuning data").
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Models.Classification;

namespace Loom.Training.Classification;

/// <summary>Reads JSONL and CSV files of labelled (or, for prediction, unlabelled) texts.</summary>
public static class ClassificationDataReader
{
    /// <summary>True for the file names this reader understands (.jsonl, .csv, optionally .gz).</summary>
    public static bool IsSupported(string path) => FormatOf(path) != null;

    /// <summary>
    /// All examples of <paramref name="path"/>. <paramref name="option"/> names where the path was given
    /// (e.g. "data.train") in file errors. Without <paramref name="requireLabel"/> a missing label is allowed
    /// (prediction input) and the example has no labels.
    /// </summary>
    public static List<LabeledText> Read(string path, ClassificationDataOptions options, string option = "data", bool requireLabel = true)
    {
        options.Validate();
        string format = FormatOf(path)
            ?? throw new NotSupportedException($"{option} {path}: unknown format; use a .jsonl or .csv file (optionally .gz).");
        var result = new List<LabeledText>();
        using var stream = CompressedInput.Open(path, option);
        using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true);
        if (format == "jsonl") ReadJsonLines(reader, path, options, requireLabel, result);
        else ReadCsv(reader, path, options, requireLabel, result);
        if (result.Count == 0) throw new InvalidDataException($"{option} {path} holds no examples; give a file with at least one record.");
        return result;
    }

    /// <summary>Streams the records of a JSONL file as they are read (for `loom classify`, which must not hold the whole input).</summary>
    public static IEnumerable<LabeledText> ReadJsonLines(TextReader reader, string source, ClassificationDataOptions options, bool requireLabel)
    {
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
                throw new InvalidDataException($"{source}:{line}: a blank line; each line must be one JSON object (remove blank lines so output lines match input lines).");
            JsonNode? node;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e) { throw new InvalidDataException($"{source}:{line}: not valid JSON ({e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}); each line must be one JSON object.", e); }
            if (node is not JsonObject obj)
                throw new InvalidDataException($"{source}:{line}: a JSON {(node is JsonArray ? "array" : "value")}, not an object; each line must be {{\"{options.TextField}\": ..., \"{options.LabelField}\": ...}}.");
            string where = $"{source}:{line}";
            // JsonObject materialises its properties lazily and throws ArgumentException on a repeated key at
            // first access; find it here so the message names the line (RFC 8259 §4: names SHOULD be unique).
            try { _ = obj.Count; }
            catch (ArgumentException)
            {
                string key = DuplicateKey(text) ?? "?";
                throw new InvalidDataException($"{where}: the key \"{key}\" appears twice in this object; keep one.");
            }
            string body = TextOf(obj[options.TextField], options.TextField, obj.ContainsKey(options.TextField), where, required: true)!;
            string? pair = options.PairField is { } pf ? TextOf(obj[pf], pf, obj.ContainsKey(pf), where, required: false) : null;
            string[] labels = [];
            float[]? values = null;
            if (!obj.TryGetPropertyValue(options.LabelField, out var label) || label is null)
            {
                if (requireLabel) throw new InvalidDataException($"{where}: the field \"{options.LabelField}\" is missing{(label is null && obj.ContainsKey(options.LabelField) ? " (null)" : "")}; every training example needs a label (or set label_field to the field that holds it).");
            }
            else (labels, values) = ParseLabel(label, options, where);
            string? group = options.GroupField is { } gf
                ? (obj[gf] is JsonValue gv && gv.TryGetValue(out string? gs) ? gs : obj[gf]?.ToJsonString()
                   ?? throw new InvalidDataException($"{where}: the group field \"{gf}\" is missing; every example needs its group (data.group_field)."))
                : null;
            yield return new LabeledText(body, pair, labels, values, source, line) { Group = group };
        }
    }

    private static void ReadJsonLines(TextReader reader, string source, ClassificationDataOptions options, bool requireLabel, List<LabeledText> into) =>
        into.AddRange(ReadJsonLines(reader, source, options, requireLabel));

    private static void ReadCsv(TextReader reader, string source, ClassificationDataOptions options, bool requireLabel, List<LabeledText> into)
    {
        int text = -1, pair = -1, label = -1, group = -1;
        foreach (var (line, fields) in CsvRecords.Read(reader, source, header =>
                 {
                     text = Array.IndexOf(header, options.TextField);
                     pair = options.PairField is { } p ? Array.IndexOf(header, p) : -1;
                     label = Array.IndexOf(header, options.LabelField);
                     group = options.GroupField is { } g ? Array.IndexOf(header, g) : -1;
                     if (options.GroupField is { } gf && group < 0) throw new InvalidDataException($"{source}:1: the header has no column \"{gf}\" (it has {string.Join(", ", header)}); set group_field to the column holding each example's group, or remove it.");
                     if (text < 0) throw new InvalidDataException($"{source}:1: the header has no column \"{options.TextField}\" (it has {string.Join(", ", header)}); set text_field to the column holding the text.");
                     if (options.PairField is { } pf && pair < 0) throw new InvalidDataException($"{source}:1: the header has no column \"{pf}\" (it has {string.Join(", ", header)}); set pair_field to the column holding the second text, or remove it.");
                     if (label < 0 && requireLabel) throw new InvalidDataException($"{source}:1: the header has no column \"{options.LabelField}\" (it has {string.Join(", ", header)}); set label_field to the column holding the label.");
                 }))
        {
            string where = $"{source}:{line}";
            string body = fields[text];
            if (string.IsNullOrWhiteSpace(body))
                throw new InvalidDataException($"{where}: the text (\"{options.TextField}\") is empty; remove the row or give it text.");
            string? second = pair >= 0 && fields[pair].Length > 0 ? fields[pair] : null;
            string[] labels = [];
            float[]? values = null;
            if (label >= 0)
            {
                string cell = fields[label].Trim();
                // An empty multi-label cell is the empty set of labels; for the other tasks it is a missing label.
                if (cell.Length == 0 && options.ProblemType != ProblemType.MultiLabel)
                {
                    if (requireLabel) throw new InvalidDataException($"{where}: the label (\"{options.LabelField}\") is empty; every training example needs a label.");
                }
                else (labels, values) = options.ProblemType switch
                {
                    ProblemType.Regression => ([], [ParseNumber(cell, where, options.LabelField)]),
                    ProblemType.MultiLabel => (cell.Length == 0 ? [] : cell.Split(options.MultiLabelSeparator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), null),
                    _ => (new[] { CsvClassName(cell) }, (float[]?)null),
                };
            }
            into.Add(new LabeledText(body, second, labels, values, source, line) { Group = group >= 0 ? fields[group] : null });
        }
    }

    // The first key repeated at the top level of one JSON object line.
    private static string? DuplicateKey(string text)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && !seen.Add(reader.GetString()!))
                return reader.GetString();
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1)
                reader.Skip();
        return null;
    }

    // A CSV cell is text, but a whole number written "1.0" is the class 1, as the JSON number 1.0 is in
    // JSONL (ClassName): both readers must give one data set the same classes.
    private static string CsvClassName(string cell) =>
        cell.Contains('.') && double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
        && double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 1e15
            ? ((long)d).ToString(CultureInfo.InvariantCulture) : cell;

    private static string? TextOf(JsonNode? node, string field, bool present, string where, bool required)
    {
        if (node is null)
        {
            if (!required) return null;
            throw new InvalidDataException($"{where}: the field \"{field}\" is {(present ? "null" : "missing")}; every record needs its text (or set text_field to the field that holds it).");
        }
        if (node is not JsonValue v || !v.TryGetValue(out string? s))
            throw new InvalidDataException($"{where}: the field \"{field}\" is {Describe(node)}, not a string.");
        if (string.IsNullOrWhiteSpace(s))
        {
            if (!required) return null;
            throw new InvalidDataException($"{where}: the text (\"{field}\") is empty; remove the record or give it text.");
        }
        return s;
    }

    private static (string[] Labels, float[]? Values) ParseLabel(JsonNode label, ClassificationDataOptions options, string where)
    {
        string field = options.LabelField;
        switch (options.ProblemType)
        {
            case ProblemType.Regression:
                if (label is JsonArray arr) return ([], arr.Select(n => NumberOf(n, where, field)).ToArray());
                return ([], [NumberOf(label, where, field)]);
            case ProblemType.MultiLabel:
                if (label is not JsonArray list)
                    throw new InvalidDataException($"{where}: the label (\"{field}\") is {Describe(label)}; a multi-label example lists its labels, e.g. [\"sports\", \"politics\"] (or [] for none).");
                return (list.Select(n => ClassName(n, where, field, multi: true)).ToArray(), null);
            default:
                if (label is JsonArray)
                    throw new InvalidDataException($"{where}: the label (\"{field}\") is a list; for several labels per example set task: multi_label.");
                return ([ClassName(label, where, field, multi: false)], null);
        }
    }

    // A class is a string or an integer; 1.5 or true is a mistake (a regression target, a flag) the user should see.
    private static string ClassName(JsonNode? node, string where, string field, bool multi)
    {
        if (node is JsonValue v)
        {
            if (v.TryGetValue(out string? s))
            {
                if (string.IsNullOrWhiteSpace(s)) throw new InvalidDataException($"{where}: the label (\"{field}\") is an empty string; give the class name.");
                return s;
            }
            if (v.GetValueKind() == JsonValueKind.Number)
            {
                if (v.TryGetValue(out long l)) return l.ToString(CultureInfo.InvariantCulture);
                double d = v.GetValue<double>();
                if (d == Math.Floor(d) && Math.Abs(d) < 1e15) return ((long)d).ToString(CultureInfo.InvariantCulture);
                throw new InvalidDataException($"{where}: the label (\"{field}\") is {v.ToJsonString()}, not a class; for real-valued targets set task: regression.");
            }
        }
        throw new InvalidDataException($"{where}: the label (\"{field}\") {(multi ? "list holds" : "is")} {Describe(node)}; a class is a string or a whole number.");
    }

    private static float NumberOf(JsonNode? node, string where, string field)
    {
        if (node is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number)
            {
                double d = v.GetValue<double>();
                if (double.IsFinite(d) && Math.Abs(d) < float.MaxValue) return (float)d;
            }
            if (v.TryGetValue(out string? s)) return ParseNumber(s, where, field);
        }
        throw new InvalidDataException($"{where}: the label (\"{field}\") is {Describe(node)}; a regression target is a finite number.");
    }

    private static float ParseNumber(string s, string where, string field)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && Math.Abs(d) < float.MaxValue) return (float)d;
        throw new InvalidDataException($"{where}: the label (\"{field}\") is \"{s}\"; a regression target is a finite number.");
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "a list",
        JsonObject => "an object",
        _ => node.ToJsonString(),
    };

    private static string? FormatOf(string path)
    {
        string name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase)) return "jsonl";
        if (name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return "csv";
        return null;
    }
}
