// Typed, checked access to the fields of an OpenAI request body. Every wrong type, out-of-range value
// or unknown field becomes a 400 naming the field as the client wrote it, the value it sent, and what
// is allowed — never a deserializer's stack trace. Fields OpenAI defines that Loom does not implement
// are listed as ignored (accepted, no effect) or refused, so a client gets a clear answer either way.
using System.Text.Json;

namespace Loom.Serving.Protocol;

/// <summary>Reads the fields of one JSON request object.</summary>
public sealed class RequestFields
{
    private readonly JsonElement _body;

    /// <summary>Wraps <paramref name="body"/>, refusing a non-object and any field not in <paramref name="known"/>.</summary>
    public RequestFields(JsonElement body, IReadOnlySet<string> known)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw ApiException.BadRequest($"The request body must be a JSON object; got {Kind(body)}.");
        foreach (var p in body.EnumerateObject())
            if (!known.Contains(p.Name))
                throw ApiException.BadRequest($"Unrecognized request argument supplied: {p.Name}. Remove it; the supported fields are {string.Join(", ", known.Order())}.", p.Name);
        _body = body;
    }

    /// <summary>The raw value of <paramref name="name"/>, or null when absent or JSON null.</summary>
    public JsonElement? Get(string name) =>
        _body.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public bool Has(string name) => Get(name) != null;

    public string? String(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw WrongType(name, v, "a string");
    }

    public string RequiredString(string name) =>
        String(name) ?? throw ApiException.BadRequest($"'{name}' is a required property.", name);

    public bool? Bool(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw WrongType(name, v, "a boolean") };
    }

    public int? Int(string name, long min = int.MinValue, long max = int.MaxValue)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x)) throw WrongType(name, v, "an integer");
        if (x < min || x > max) throw OutOfRange(name, v, min, max);
        return (int)x;
    }

    public double? Number(string name, double min, double max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double x)) throw WrongType(name, v, "a number");
        if (!(x >= min && x <= max)) throw OutOfRange(name, v, min, max);
        return x;
    }

    /// <summary>A string or an array of strings (OpenAI's stop), as a list.</summary>
    public IReadOnlyList<string> Strings(string name, int maxCount = int.MaxValue)
    {
        if (Get(name) is not { } v) return [];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw WrongType(name, v, "a string or an array of strings");
        var list = new List<string>();
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw WrongType($"{name}[{list.Count}]", item, "a string"));
        if (list.Count > maxCount) throw ApiException.BadRequest($"'{name}' has {list.Count} entries; at most {maxCount} are allowed.", name);
        return list;
    }

    /// <summary>An array of integers ≥ 0 (vLLM's stop_token_ids).</summary>
    public IReadOnlyList<int> Ints(string name)
    {
        if (Get(name) is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw WrongType(name, v, "an array of integers");
        var list = new List<int>();
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int x) && x >= 0 ? x : throw WrongType($"{name}[{list.Count}]", item, "an integer ≥ 0"));
        return list;
    }

    /// <summary>A JSON object, or null.</summary>
    public JsonElement? Object(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Object ? v : throw WrongType(name, v, "an object");
    }

    /// <summary>400 for a field Loom does not implement (with a non-default value).</summary>
    public void Unsupported(string name, string why)
    {
        if (Has(name)) throw ApiException.BadRequest($"'{name}' is not supported by this server: {why}", name);
    }

    public static ApiException WrongType(string name, JsonElement v, string expected) =>
        ApiException.BadRequest($"'{name}' must be {expected}; got {Kind(v)} {Shorten(v.GetRawText())}.", name);

    private static ApiException OutOfRange(string name, JsonElement v, double min, double max) =>
        ApiException.BadRequest($"'{name}' must be in [{Bound(min)}, {Bound(max)}]; got {Shorten(v.GetRawText())}.", name);

    private static string Bound(double b) => b <= int.MinValue ? "-∞" : b >= int.MaxValue ? "∞" : b.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
