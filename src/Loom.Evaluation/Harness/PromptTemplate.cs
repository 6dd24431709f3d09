// The template language of task files: literal text with {{ path }} holes, where a path is a field
// of the JSON document, dotted into objects and indexed into lists ({{answers.text[0]}}). This is the
// subset of Jinja that lm-evaluation-harness's shipped tasks use for doc_to_text/doc_to_target;
// anything else inside {{ }} (filters, expressions) is refused when the task loads, naming the file
// and line, rather than rendered differently from Jinja.
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Loom.Evaluation.Harness;

/// <summary>A parsed <c>{{field}}</c> template.</summary>
public sealed partial class PromptTemplate
{
    // Parts alternate literal text and field paths; each path is a list of keys (string) or indexes (int).
    private readonly List<object> _parts = [];

    /// <summary>The source text.</summary>
    public string Source { get; }

    /// <summary>True when the template is exactly one hole (its value may be a list or a number, not only text).</summary>
    public bool IsSingleField => _parts.Count == 1 && _parts[0] is object[];

    private PromptTemplate(string source) => Source = source;

    [GeneratedRegex(@"\{\{(.*?)\}\}", RegexOptions.Singleline)]
    private static partial Regex Hole();

    [GeneratedRegex(@"^\s*([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)\s*$")]
    private static partial Regex PathSyntax();

    [GeneratedRegex(@"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")]
    private static partial Regex Step();

    /// <summary>Parses <paramref name="source"/>; <paramref name="where"/> names it in errors (file:line field).</summary>
    public static PromptTemplate Parse(string source, string where)
    {
        var t = new PromptTemplate(source);
        int at = 0;
        foreach (Match m in Hole().Matches(source))
        {
            if (m.Index > at) t._parts.Add(source[at..m.Index]);
            var p = PathSyntax().Match(m.Groups[1].Value);
            if (!p.Success)
                throw new FormatException($"{where}: \"{{{{{m.Groups[1].Value}}}}}\" is not a field path; templates support {{{{field}}}}, {{{{field.sub}}}} and {{{{field[0]}}}} only.");
            var path = new List<object> { p.Groups[1].Value };
            foreach (Match s in Step().Matches(p.Groups[2].Value))
                path.Add(s.Groups[1].Success ? s.Groups[1].Value : int.Parse(s.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
            t._parts.Add(path.ToArray());
            at = m.Index + m.Length;
        }
        if (at < source.Length) t._parts.Add(source[at..]);
        if (source.Contains("{%", StringComparison.Ordinal))
            throw new FormatException($"{where}: Jinja statements ({{% ... %}}) are not supported in task templates; use {{{{field}}}} holes only.");
        return t;
    }

    /// <summary>The template's text for <paramref name="doc"/>; <paramref name="where"/> names the document in errors.</summary>
    public string Render(JsonObject doc, string where)
    {
        var sb = new StringBuilder();
        foreach (var part in _parts)
            sb.Append(part is string s ? s : AsText(Resolve(doc, (object[])part, where)));
        return sb.ToString();
    }

    /// <summary>The value of a single-hole template (a list, a number or a string); text for any other template.</summary>
    public JsonNode? RenderValue(JsonObject doc, string where) =>
        IsSingleField ? Resolve(doc, (object[])_parts[0], where) : JsonValue.Create(Render(doc, where));

    private static JsonNode? Resolve(JsonObject doc, object[] path, string where)
    {
        JsonNode? node = doc;
        string walked = "";
        foreach (var step in path)
        {
            walked += step is int i ? $"[{i}]" : (walked.Length == 0 ? "" : ".") + step;
            node = (node, step) switch
            {
                (JsonObject o, string key) when o.TryGetPropertyValue(key, out var v) => v,
                (JsonArray a, int index) when index < a.Count => a[index],
                _ => throw new InvalidDataException($"{where}: the document has no field {walked}; the task template needs it (fields present: {string.Join(", ", doc.Select(kv => kv.Key))})."),
            };
        }
        return node;
    }

    private static string AsText(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => node.ToJsonString(),
    };

    public override string ToString() => Source;
}
