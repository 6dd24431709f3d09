// Turns JSON (messages, tools, variables) into template values as Python's json.loads would: objects keep
// their key order, integers stay ints (so tojson writes them back unchanged) and numbers with a fraction or
// exponent become floats.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Inference.Templates;

internal static class JinjaJson
{
    public static object? FromNode(JsonNode? node)
    {
        switch (node)
        {
            case null: return null;
            case JsonObject o:
            {
                var d = new JinjaDict();
                foreach (var p in o) d[p.Key] = FromNode(p.Value);
                return d;
            }
            case JsonArray a:
            {
                var list = new List<object?>(a.Count);
                foreach (var item in a) list.Add(FromNode(item));
                return list;
            }
            case JsonValue v:
                return FromElement(v.GetValueKind(), v);
            default:
                return null;
        }
    }

    private static object? FromElement(JsonValueKind kind, JsonValue v)
    {
        switch (kind)
        {
            case JsonValueKind.String: return v.GetValue<string>();
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Null: return null;
            case JsonValueKind.Number:
            {
                if (v.TryGetValue(out long l)) return l;
                if (v.TryGetValue(out int i)) return (long)i;
                if (v.TryGetValue(out double d))
                {
                    // A JsonValue built from a .NET integer type reads as long above; parsed JSON text keeps
                    // its raw form, where "2" is an int and "2.0" a float for Python.
                    string raw = v.ToJsonString();
                    bool isFloat = raw.IndexOfAny(['.', 'e', 'E']) >= 0;
                    if (!isFloat && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed)) return parsed;
                    return d;
                }
                return null;
            }
            default: return null;
        }
    }
}
