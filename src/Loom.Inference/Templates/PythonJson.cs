// Python's json.dumps as Hugging Face's tojson filter calls it (transformers chat_template_utils:
// json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)), byte for
// byte: separators ", " and ": " without indent, "," and ": " with one; indent as a count of spaces or a
// string; floats as repr(); NaN/Infinity as Python writes them; only '"', '\\' and control characters
// below U+0020 escaped (\n \r \t \b \f or \u00XX), everything else written as is; dict keys that are
// ints, floats, bools or None turned into strings as Python does; an Undefined or other object is an error.
using System.Globalization;
using System.Text;

namespace Loom.Inference.Templates;

internal static class PythonJson
{
    public static string Dumps(object? value, string? indent, string itemSeparator, string keySeparator, bool sortKeys, bool ensureAscii)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, itemSeparator, keySeparator, sortKeys, ensureAscii, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, string? indent, string itemSep, string keySep, bool sortKeys, bool ascii, int level)
    {
        switch (value)
        {
            case null: sb.Append("null"); return;
            case bool b: sb.Append(b ? "true" : "false"); return;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); return;
            case double d: sb.Append(FloatJson(d)); return;
            case string s: WriteString(sb, s, ascii); return;
            case List<object?> list: WriteSequence(sb, list, indent, itemSep, keySep, sortKeys, ascii, level); return;
            case object?[] tuple: WriteSequence(sb, tuple, indent, itemSep, keySep, sortKeys, ascii, level); return;
            case JinjaDict dict:
            {
                if (dict.Count == 0) { sb.Append("{}"); return; }
                var pairs = dict.Select(p => (Key: KeyString(p.Key), p.Value)).ToList();
                if (sortKeys) pairs.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
                sb.Append('{');
                for (int i = 0; i < pairs.Count; i++)
                {
                    if (i > 0) sb.Append(itemSep);
                    NewLine(sb, indent, level + 1);
                    WriteString(sb, pairs[i].Key, ascii);
                    sb.Append(keySep);
                    Write(sb, pairs[i].Value, indent, itemSep, keySep, sortKeys, ascii, level + 1);
                }
                NewLine(sb, indent, level);
                sb.Append('}');
                return;
            }
            default:
                throw new JinjaError($"Object of type {JinjaValues.TypeName(value)} is not JSON serializable");
        }
    }

    private static void WriteSequence(StringBuilder sb, IReadOnlyList<object?> items, string? indent, string itemSep, string keySep, bool sortKeys, bool ascii, int level)
    {
        if (items.Count == 0) { sb.Append("[]"); return; }
        sb.Append('[');
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(itemSep);
            NewLine(sb, indent, level + 1);
            Write(sb, items[i], indent, itemSep, keySep, sortKeys, ascii, level + 1);
        }
        NewLine(sb, indent, level);
        sb.Append(']');
    }

    private static void NewLine(StringBuilder sb, string? indent, int level)
    {
        if (indent is null) return;
        sb.Append('\n');
        for (int i = 0; i < level; i++) sb.Append(indent);
    }

    private static string KeyString(object key) => key switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatJson(d),
        _ => throw new JinjaError($"keys must be str, int, float, bool or None, not {JinjaValues.TypeName(key)}"),
    };

    private static string FloatJson(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PythonText.FloatRepr(d);

    private static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7e)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
