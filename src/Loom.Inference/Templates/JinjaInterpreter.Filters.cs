// The filters chat templates use, with jinja2 3.1's semantics (jinja2/filters.py) and HF's tojson override
// (json.dumps with ensure_ascii=False; transformers' chat_template_utils). An unknown filter is an error,
// as jinja2 reports it when compiling ("No filter named 'x'."), here when the filter is applied.
using System.Text;
using System.Text.RegularExpressions;

namespace Loom.Inference.Templates;

internal sealed partial class JinjaInterpreter
{
    /// <summary>The filters <see cref="CallFilter"/> knows; the parser refuses others, as jinja2 does at compile time.</summary>
    public static readonly HashSet<string> FilterNames =
    [
        "trim", "tojson", "length", "count", "upper", "lower", "capitalize", "title", "replace", "join", "first", "last",
        "default", "d", "string", "list", "items", "selectattr", "rejectattr", "select", "reject", "map", "unique", "reverse",
        "sort", "dictsort", "sum", "min", "max", "abs", "int", "float", "round", "wordcount", "indent", "safe", "escape", "e", "attr",
    ];

    private object? ApplyFilter(JinjaNode.Filter f, object? value, JinjaScope scope)
    {
        var (args, kwargs) = EvaluateArguments(f.Args, f.Kwargs, scope);
        return CallFilter(f.FilterName, value, args, kwargs);
    }

    private static object? Arg(List<object?> a, Dictionary<string, object?> k, int index, string name, object? fallback = null) =>
        index < a.Count ? a[index] : k.TryGetValue(name, out var v) ? v : fallback;

    private object? CallFilter(string name, object? value, List<object?> a, Dictionary<string, object?> k)
    {
        switch (name)
        {
            case "trim":
                return JinjaMethods.Strip(PythonText.Str(value), Arg(a, k, 0, "chars"), left: true, right: true);
            case "tojson":
            {
                // HF: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
                bool ensureAscii = JinjaValues.IsTrue(Arg(a, k, 0, "ensure_ascii", false));
                var indentArg = Arg(a, k, 1, "indent");
                string? indent = indentArg switch
                {
                    null => null,
                    long n => new string(' ', (int)Math.Max(0, n)),
                    string s => s,
                    _ => throw new JinjaError("tojson's indent must be an integer or a string"),
                };
                string itemSep = indent is null ? ", " : ",", keySep = ": ";
                if (Arg(a, k, 2, "separators") is { } seps and not JinjaUndefined)
                {
                    var parts = JinjaValues.Iterate(seps);
                    if (parts.Count != 2) throw new JinjaError("tojson's separators must be a pair (item_separator, key_separator)");
                    itemSep = JinjaValues.AsString(parts[0], "item separator");
                    keySep = JinjaValues.AsString(parts[1], "key separator");
                }
                bool sortKeys = JinjaValues.IsTrue(Arg(a, k, 3, "sort_keys", false));
                return PythonJson.Dumps(value, indent, itemSep, keySep, sortKeys, ensureAscii);
            }
            case "length" or "count":
                return JinjaValues.Length(value);
            case "upper":
                return PythonText.Str(value).ToUpperInvariant();
            case "lower":
                return PythonText.Str(value).ToLowerInvariant();
            case "capitalize":
                return JinjaMethods.Capitalize(PythonText.Str(value));
            case "title":
                return Title(PythonText.Str(value));
            case "replace":
            {
                long count = Arg(a, k, 2, "count") is { } c ? JinjaValues.AsInt(c, "replace's count") : -1;
                return JinjaMethods.Replace(PythonText.Str(value), PythonText.Str(Arg(a, k, 0, "old")), PythonText.Str(Arg(a, k, 1, "new")), count);
            }
            case "join":
            {
                string separator = PythonText.Str(Arg(a, k, 0, "d", ""));
                var attribute = Arg(a, k, 1, "attribute");
                var items = JinjaValues.Iterate(value);
                var sb = new StringBuilder();
                for (int i = 0; i < items.Count; i++)
                {
                    if (i > 0) sb.Append(separator);
                    PythonText.AppendStr(sb, attribute is null ? items[i] : GetPath(items[i], attribute));
                }
                return sb.ToString();
            }
            case "first":
            {
                var items = JinjaValues.Iterate(value);
                return items.Count > 0 ? items[0] : new JinjaUndefined("No first item, sequence was empty.");
            }
            case "last":
            {
                var items = JinjaValues.Iterate(value);
                return items.Count > 0 ? items[^1] : new JinjaUndefined("No last item, sequence was empty.");
            }
            case "default" or "d":
            {
                bool boolean = JinjaValues.IsTrue(Arg(a, k, 1, "boolean", false));
                bool useDefault = value is JinjaUndefined || (boolean && !JinjaValues.IsTrue(value));
                return useDefault ? Arg(a, k, 0, "default_value", "") : value;
            }
            case "string":
                return PythonText.Str(value);
            case "list":
                return new List<object?>(JinjaValues.Iterate(value));
            case "items":
                if (value is JinjaUndefined) return new List<object?>();
                if (value is not JinjaDict dict) throw new JinjaError($"Can only get item pairs from a mapping, not {JinjaValues.TypeName(value)}.");
                return dict.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList();
            case "selectattr" or "rejectattr":
            {
                bool keep = name == "selectattr";
                var attribute = Arg(a, k, 0, "attribute") ?? throw new JinjaError($"{name} needs an attribute");
                string? test = a.Count > 1 ? JinjaValues.AsString(a[1], $"{name}'s test") : null;
                var testArgs = a.Count > 2 ? a.GetRange(2, a.Count - 2) : [];
                var result = new List<object?>();
                foreach (var item in JinjaValues.Iterate(value))
                {
                    var v = GetPath(item, attribute);
                    bool passed = test is null ? JinjaValues.IsTrue(v) : ApplyTest(test, v, testArgs);
                    if (passed == keep) result.Add(item);
                }
                return result;
            }
            case "select" or "reject":
            {
                bool keep = name == "select";
                string? test = a.Count > 0 ? JinjaValues.AsString(a[0], $"{name}'s test") : null;
                var testArgs = a.Count > 1 ? a.GetRange(1, a.Count - 1) : [];
                var result = new List<object?>();
                foreach (var item in JinjaValues.Iterate(value))
                {
                    bool passed = test is null ? JinjaValues.IsTrue(item) : ApplyTest(test, item, testArgs);
                    if (passed == keep) result.Add(item);
                }
                return result;
            }
            case "map":
            {
                var result = new List<object?>();
                if (k.TryGetValue("attribute", out var attribute))
                {
                    k.TryGetValue("default", out var fallback);
                    foreach (var item in JinjaValues.Iterate(value))
                    {
                        var v = GetPath(item, attribute);
                        result.Add(v is JinjaUndefined && k.ContainsKey("default") ? fallback : v);
                    }
                    return result;
                }
                if (a.Count == 0) throw new JinjaError("map needs a filter name or attribute=");
                string filter = JinjaValues.AsString(a[0], "map's filter");
                var rest = a.GetRange(1, a.Count - 1);
                foreach (var item in JinjaValues.Iterate(value)) result.Add(CallFilter(filter, item, rest, k));
                return result;
            }
            case "unique":
            {
                var result = new List<object?>();
                foreach (var item in JinjaValues.Iterate(value))
                {
                    var cmp = item is string s ? s.ToLowerInvariant() : item;
                    if (!result.Exists(r => JinjaValues.PyEquals(r is string rs ? rs.ToLowerInvariant() : r, cmp))) result.Add(item);
                }
                return result;
            }
            case "reverse":
                if (value is string rstr) return string.Concat(JinjaValues.Iterate(rstr).Reverse().Cast<string>());
                return JinjaValues.Iterate(value).Reverse().ToList();
            case "sort":
            {
                bool reverse = JinjaValues.IsTrue(Arg(a, k, 0, "reverse", false));
                bool caseSensitive = JinjaValues.IsTrue(Arg(a, k, 1, "case_sensitive", false));
                var attribute = Arg(a, k, 2, "attribute");
                var items = new List<object?>(JinjaValues.Iterate(value));
                object? Key(object? x)
                {
                    var v = attribute is null ? x : GetPath(x, attribute);
                    return !caseSensitive && v is string s ? s.ToLowerInvariant() : v;
                }
                var sorted = items.Select((x, i) => (x, i)).ToList();
                sorted.Sort((p, q) =>
                {
                    int c = JinjaValues.Compare(Key(p.x), Key(q.x), "<");
                    return c != 0 ? (reverse ? -c : c) : p.i.CompareTo(q.i);
                });
                return sorted.Select(p => p.x).ToList();
            }
            case "dictsort":
            {
                if (value is not JinjaDict sortable) throw new JinjaError("dictsort needs a mapping");
                var pairs = sortable.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList();
                pairs.Sort((p, q) => JinjaValues.Compare(((object?[])p!)[0] is string s1 ? s1.ToLowerInvariant() : ((object?[])p!)[0],
                                                        ((object?[])q!)[0] is string s2 ? s2.ToLowerInvariant() : ((object?[])q!)[0], "<"));
                return pairs;
            }
            case "sum":
            {
                object? total = Arg(a, k, 1, "start", 0L);
                var attribute = Arg(a, k, 0, "attribute");
                foreach (var item in JinjaValues.Iterate(value)) total = JinjaValues.Add(total, attribute is null ? item : GetPath(item, attribute));
                return total;
            }
            case "min" or "max":
            {
                var items = JinjaValues.Iterate(value);
                if (items.Count == 0) return new JinjaUndefined($"No aggregated item, sequence was empty.");
                var best = items[0];
                foreach (var item in items.Skip(1))
                {
                    int c = JinjaValues.Compare(item is string s ? s.ToLowerInvariant() : item, best is string b ? b.ToLowerInvariant() : best, "<");
                    if (name == "min" ? c < 0 : c > 0) best = item;
                }
                return best;
            }
            case "abs":
                return value switch { long l => (object)Math.Abs(l), double d => (object)Math.Abs(d), bool b => (object)(b ? 1L : 0L), _ => throw new JinjaError($"bad operand type for abs(): '{JinjaValues.TypeName(value)}'") };
            case "int":
                return value switch
                {
                    long l => (object)l,
                    bool b => (object)(b ? 1L : 0L),
                    double d => (object)(long)Math.Truncate(d),
                    string s when long.TryParse(s.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long p) => p,
                    string s when double.TryParse(s.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double p) => (long)Math.Truncate(p),
                    _ => Arg(a, k, 0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    long l => (object)(double)l,
                    bool b => (object)(b ? 1.0 : 0.0),
                    double d => (object)d,
                    string s when double.TryParse(s.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double p) => p,
                    _ => Arg(a, k, 0, "default", 0.0),
                };
            case "round":
            {
                long precision = JinjaValues.AsInt(Arg(a, k, 0, "precision", 0L), "round's precision");
                string method = PythonText.Str(Arg(a, k, 1, "method", "common"));
                // Python's round(int, n) stays an int; floor and ceil divide, so they give floats.
                if (value is long or bool && method != "ceil" && method != "floor") return value is bool bv ? (bv ? 1L : 0L) : value;
                double v = value switch { long l => l, double d => d, bool b => b ? 1 : 0, _ => throw new JinjaError("round needs a number") };
                double factor = Math.Pow(10, precision);
                double r = method switch
                {
                    "ceil" => Math.Ceiling(v * factor) / factor,
                    "floor" => Math.Floor(v * factor) / factor,
                    _ => PythonRound(v, precision),
                };
                return r;
            }
            case "wordcount":
                return (long)Regex.Matches(PythonText.Str(value), @"\w+").Count;
            case "indent":
            {
                // jinja2 3.1 do_indent, including its quirk of appending a newline before splitlines().
                var widthArg = Arg(a, k, 0, "width", 4L);
                string indention = widthArg is string ws ? ws : new string(' ', (int)Math.Max(0, JinjaValues.AsInt(widthArg, "indent's width")));
                bool first = JinjaValues.IsTrue(Arg(a, k, 1, "first", false));
                bool blank = JinjaValues.IsTrue(Arg(a, k, 2, "blank", false));
                var lines = PythonText.SplitLines(PythonText.Str(value) + "\n").Cast<string>().ToList();
                string rv;
                if (blank) rv = string.Join("\n" + indention, lines);
                else
                {
                    rv = lines.Count > 0 ? lines[0] : "";
                    if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indention + l : l));
                }
                return first ? indention + rv : rv;
            }
            case "safe":
                return value;
            case "escape" or "e":
                return PythonText.Str(value).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");
            case "attr":
                return JinjaValues.GetAttribute(value, JinjaValues.AsString(Arg(a, k, 0, "name"), "attr's name"));
            default:
                throw new JinjaError($"No filter named '{name}'.");
        }
    }

    // CPython's round(x, n) for a float: the exact binary value of x scaled by 10^n, rounded half to even,
    // then read back as the nearest double (so round(2.675, 2) is 2.67, since 2.675 is stored as 2.67499…).
    private static double PythonRound(double x, long n)
    {
        if (!double.IsFinite(x) || n > 300 || n < -300) return x;
        long bits = BitConverter.DoubleToInt64Bits(x);
        bool negative = bits < 0;
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent++; else mantissa |= 1L << 52;
        exponent -= 1075; // |x| = mantissa × 2^exponent
        var numerator = new System.Numerics.BigInteger(mantissa);
        var denominator = System.Numerics.BigInteger.One;
        if (exponent >= 0) numerator <<= exponent; else denominator <<= -exponent;
        if (n >= 0) numerator *= System.Numerics.BigInteger.Pow(10, (int)n);
        else denominator *= System.Numerics.BigInteger.Pow(10, (int)-n);
        var q = System.Numerics.BigInteger.DivRem(numerator, denominator, out var r);
        int c = (r * 2).CompareTo(denominator);
        if (c > 0 || (c == 0 && !q.IsEven)) q += 1;
        string digits = q.ToString(System.Globalization.CultureInfo.InvariantCulture);
        double result = double.Parse($"{digits}e{-n}", System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        return negative ? -result : result;
    }

    // jinja2's do_title: words start after "-", whitespace, or an opening bracket.
    private static string Title(string s)
    {
        var sb = new StringBuilder();
        foreach (var item in Regex.Split(s, @"([-\s({\[<]+)"))
        {
            if (item.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(item[0])).Append(item[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }

    // jinja2's make_attrgetter: "a.b" walks items, integers in the path index lists.
    private static object? GetPath(object? item, object? attribute)
    {
        if (attribute is long index) return JinjaValues.GetItem(item, index);
        string path = JinjaValues.AsString(attribute, "attribute");
        foreach (var part in path.Split('.'))
        {
            object key = long.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) ? n : part;
            item = JinjaValues.GetItem(item, key);
        }
        return item;
    }
}
