// Reading the --predictions / --references files of `loom eval metrics`. A file is either JSON (an
// array of strings or numbers; for references an array whose items may themselves be arrays, one
// list of references per segment; a .jsonl file holds one such value per line) or plain text, one
// segment per line, as sacreBLEU's command line reads it. Every error names file:line.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Loom.Cli.Commands.Eval;

internal static class MetricFiles
{
    /// <summary>The file parsed as JSON (whole document); a syntax error names file:line:column.</summary>
    public static JsonDocument ReadJson(string path, string option)
    {
        var bytes = ReadBytes(path, option);
        try { return JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = false }); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{(e.LineNumber ?? 0) + 1}:{(e.BytePositionInLine ?? 0) + 1}: not valid JSON ({option}): {e.Message.Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd()}");
        }
    }

    /// <summary>Segments, each with one or more texts: JSON array (items strings or arrays of strings), JSONL (one such item a line) or text lines.</summary>
    public static List<string[]> ReadSegments(string path, string option)
    {
        var list = new List<string[]>();
        if (IsJson(path))
        {
            using var doc = ReadJson(path, option);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: a JSON {Kind(doc.RootElement)}; {option} must be a JSON array of strings (or of arrays of strings, several references per segment).");
            int i = 0;
            foreach (var item in doc.RootElement.EnumerateArray()) list.Add(Texts(item, $"{path}: item {i++}", option));
            return NonEmpty(list, path, option);
        }
        int line = 0;
        bool jsonl = IsJsonLines(path);
        foreach (var s in ReadLines(path, option))
        {
            line++;
            if (!jsonl) { list.Add([s]); continue; }
            if (string.IsNullOrWhiteSpace(s)) throw new InvalidDataException($"{path}:{line}: a blank line; each line of a JSONL {option} file holds one segment (a JSON string or array of strings).");
            try
            {
                using var doc = JsonDocument.Parse(s);
                list.Add(Texts(doc.RootElement, $"{path}:{line}", option));
            }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{line}: not valid JSON ({e.Message.Split(" Path:")[0]})."); }
        }
        return NonEmpty(list, path, option);
    }

    /// <summary>Numbers: a JSON array of numbers or one number per line.</summary>
    public static double[] ReadNumbers(string path, string option)
    {
        var list = new List<double>();
        if (IsJson(path))
        {
            using var doc = ReadJson(path, option);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: a JSON {Kind(doc.RootElement)}; {option} must be a JSON array of numbers.");
            int i = 0;
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"{path}: item {i} is a JSON {Kind(item)} ({Excerpt(item.GetRawText())}); {option} must hold numbers.");
                list.Add(item.GetDouble());
                i++;
            }
            return [.. NonEmpty(list, path, option)];
        }
        int line = 0;
        foreach (var s in ReadLines(path, option))
        {
            line++;
            if (string.IsNullOrWhiteSpace(s)) continue;
            string t = s.Trim();
            if (IsJsonLines(path) && t.StartsWith('"') && t.EndsWith('"')) t = t[1..^1];
            if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new InvalidDataException($"{path}:{line}: \"{Excerpt(s)}\" is not a number; {option} holds one number per line.");
            list.Add(v);
        }
        return [.. NonEmpty(list, path, option)];
    }

    /// <summary>Class labels: a JSON array of strings/integers or one label per line, as strings.</summary>
    public static string[] ReadLabels(string path, string option)
    {
        if (IsJson(path))
        {
            using var doc = ReadJson(path, option);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: a JSON {Kind(doc.RootElement)}; {option} must be a JSON array of labels.");
            return doc.RootElement.EnumerateArray().Select((e, i) => e.ValueKind switch
            {
                JsonValueKind.String => e.GetString()!,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
                _ => throw new InvalidDataException($"{path}: item {i} is a JSON {Kind(e)}; labels are strings or numbers."),
            }).ToArray();
        }
        return ReadLines(path, option).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l.Trim()).ToArray();
    }

    private static string[] Texts(JsonElement item, string where, string option) => item.ValueKind switch
    {
        JsonValueKind.String => [item.GetString()!],
        JsonValueKind.Array => item.EnumerateArray().Select((e, j) => e.ValueKind == JsonValueKind.String ? e.GetString()!
            : throw new InvalidDataException($"{where}, reference {j}: a JSON {Kind(e)}; {option} texts must be strings.")).ToArray(),
        _ => throw new InvalidDataException($"{where}: a JSON {Kind(item)} ({Excerpt(item.GetRawText())}); {option} items must be strings or arrays of strings."),
    };

    // An empty file is a mistake (a wrong path or a failed export), not a score: say so instead of failing inside a metric.
    private static List<T> NonEmpty<T>(List<T> list, string path, string option) =>
        list.Count > 0 ? list : throw new InvalidDataException($"{option} {path} holds no entries; give one per line (or a JSON array).");

    private static bool IsJson(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    private static bool IsJsonLines(string path) => path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase);

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    private static string Excerpt(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static byte[] ReadBytes(string path, string option)
    {
        Loom.Core.IO.InputFiles.RequireFile(path, option);
        var bytes = File.ReadAllBytes(path);
        // A UTF-8 byte-order mark is not JSON; skip it as Python's utf-8-sig would.
        return bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? bytes[3..] : bytes;
    }

    private static List<string> ReadLines(string path, string option)
    {
        var text = new UTF8Encoding(false, true).GetString(ReadBytes(path, option));
        // One segment per line; a final newline ends the last segment rather than opening an empty one.
        var lines = text.Split('\n').Select(l => l.EndsWith('\r') ? l[..^1] : l).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
