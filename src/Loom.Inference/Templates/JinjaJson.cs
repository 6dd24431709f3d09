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
                // Parsed JSON text: "2" is an int and "2.0" a float, as json.loads reads them.
                if (v.TryGetValue(out JsonElement element))
                {
                    string raw = element.GetRawText();
                    bool isFloat = raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0;
                    if (!isFloat && element.TryGetInt64(out long whole)) return whole;
                    return element.GetDouble(); // a float, or an int beyond 64 bits (Python keeps it exact; rare)
                }
                // A node built from a .NET value: integer types are ints, floating types floats.
                if (v.TryGetValue(out long l)) return l;
                if (v.TryGetValue(out int i)) return (long)i;
                if (v.TryGetValue(out short sh)) return (long)sh;
                if (v.TryGetValue(out byte b)) return (long)b;
                if (v.TryGetValue(out uint ui)) return (long)ui;
                if (v.TryGetValue(out double d)) return d;
                if (v.TryGetValue(out float f)) return (double)f;
                if (v.TryGetValue(out decimal m)) return (double)m;
                return double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            default: return null;
        }
    }
}
