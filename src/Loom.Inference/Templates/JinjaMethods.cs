// The Python methods templates call on values ("content.strip()", "messages[0].get('role')",
// "d.items()"), with Python's own behaviour: str.strip/lstrip/rstrip with or without characters,
// str.split with and without a separator (runs of whitespace, empty strings dropped), startswith/endswith
// with a string or a tuple, and so on. Methods that would change a list or dict (append, pop, update, ...)
// raise as jinja2's ImmutableSandboxedEnvironment does ("access to attribute 'append' of 'list' object
// is unsafe").
using System.Text;

namespace Loom.Inference.Templates;

internal static class JinjaMethods
{
    private static readonly HashSet<string> MutatingListMethods = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];
    private static readonly HashSet<string> MutatingDictMethods = ["clear", "pop", "popitem", "setdefault", "update"];

    /// <summary>The bound method <paramref name="name"/> of <paramref name="target"/>, or null when it has none.</summary>
    public static JinjaCallable? Bind(object? target, string name)
    {
        switch (target)
        {
            case string s: return BindString(s, name);
            case JinjaDict d:
                if (MutatingDictMethods.Contains(name)) return Unsafe(name, "dict");
                return name switch
                {
                    "items" => new(name, (a, k, _) => { NoArgs(name, a, k); return d.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList(); }),
                    "keys" => new(name, (a, k, _) => { NoArgs(name, a, k); return d.Keys.Select(x => (object?)x).ToList(); }),
                    "values" => new(name, (a, k, _) => { NoArgs(name, a, k); return d.Values.ToList(); }),
                    "get" => new(name, (a, k, _) =>
                    {
                        if (a.Count is < 1 or > 2) throw new JinjaError("get expected 1 or 2 arguments");
                        return a[0] is not null && d.TryGetValue(a[0]!, out var v) ? v : a.Count > 1 ? a[1] : null;
                    }),
                    "copy" => new(name, (a, k, _) => { var c = new JinjaDict(); foreach (var p in d) c[p.Key] = p.Value; return c; }),
                    _ => null,
                };
            case List<object?> l:
                if (MutatingListMethods.Contains(name)) return Unsafe(name, "list");
                return name switch
                {
                    "index" => new(name, (a, k, _) =>
                    {
                        for (int i = 0; i < l.Count; i++) if (JinjaValues.PyEquals(l[i], a[0])) return (long)i;
                        throw new JinjaError($"{PythonText.Repr(a[0])} is not in list");
                    }),
                    "count" => new(name, (a, k, _) => (long)l.Count(x => JinjaValues.PyEquals(x, a[0]))),
                    "copy" => new(name, (a, k, _) => new List<object?>(l)),
                    _ => null,
                };
        }
        return null;
    }

    private static JinjaCallable Unsafe(string name, string type) =>
        new(name, (_, _, _) => throw new JinjaError($"access to attribute '{name}' of '{type}' object is unsafe."));

    private static void NoArgs(string name, List<object?> a, Dictionary<string, object?> k)
    {
        if (a.Count > 0 || k.Count > 0) throw new JinjaError($"{name}() takes no arguments");
    }

    private static object? Arg(List<object?> a, Dictionary<string, object?> k, int index, string name, object? fallback = null) =>
        index < a.Count ? a[index] : k.TryGetValue(name, out var v) ? v : fallback;

    private static JinjaCallable? BindString(string s, string name) => name switch
    {
        "strip" => new(name, (a, k, _) => Strip(s, Arg(a, k, 0, "chars"), left: true, right: true)),
        "lstrip" => new(name, (a, k, _) => Strip(s, Arg(a, k, 0, "chars"), left: true, right: false)),
        "rstrip" => new(name, (a, k, _) => Strip(s, Arg(a, k, 0, "chars"), left: false, right: true)),
        "split" => new(name, (a, k, _) => Split(s, Arg(a, k, 0, "sep"), Arg(a, k, 1, "maxsplit", -1L))),
        "rsplit" => new(name, (a, k, _) => RSplit(s, Arg(a, k, 0, "sep"), Arg(a, k, 1, "maxsplit", -1L))),
        "splitlines" => new(name, (a, k, _) => PythonText.SplitLines(s)),
        "startswith" => new(name, (a, k, _) => Affix(s, a[0], start: true)),
        "endswith" => new(name, (a, k, _) => Affix(s, a[0], start: false)),
        "upper" => new(name, (a, k, _) => s.ToUpperInvariant()),
        "lower" => new(name, (a, k, _) => s.ToLowerInvariant()),
        "title" => new(name, (a, k, _) => Title(s)),
        "capitalize" => new(name, (a, k, _) => Capitalize(s)),
        "replace" => new(name, (a, k, _) => Replace(s, JinjaValues.AsString(a[0], "replace() argument 1"), JinjaValues.AsString(a[1], "replace() argument 2"), a.Count > 2 ? JinjaValues.AsInt(a[2], "count") : -1)),
        "find" => new(name, (a, k, _) => (long)s.IndexOf(JinjaValues.AsString(a[0], "find() argument"), StringComparison.Ordinal)),
        "count" => new(name, (a, k, _) => (long)CountOccurrences(s, JinjaValues.AsString(a[0], "count() argument"))),
        "join" => new(name, (a, k, _) => string.Join(s, JinjaValues.Iterate(a[0]).Select(x => x is string str ? str : throw new JinjaError($"sequence item: expected str instance, {JinjaValues.TypeName(x)} found")))),
        "isdigit" => new(name, (a, k, _) => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => new(name, (a, k, _) => s.Length > 0 && s.All(char.IsLetter)),
        "isspace" => new(name, (a, k, _) => s.Length > 0 && s.All(PythonText.IsWhitespace)),
        _ => null,
    };

    public static string Strip(string s, object? chars, bool left, bool right)
    {
        char[] set = chars switch
        {
            null => PythonText.WhitespaceChars,
            string c => c.ToCharArray(),
            _ => throw new JinjaError("strip arg must be None or str"),
        };
        if (left && right) return s.Trim(set);
        return left ? s.TrimStart(set) : s.TrimEnd(set);
    }

    private static List<object?> Split(string s, object? sep, object? maxsplit)
    {
        long max = JinjaValues.AsInt(maxsplit, "maxsplit");
        var result = new List<object?>();
        if (sep is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && PythonText.IsWhitespace(s[i])) i++;
                if (i >= s.Length) break;
                if (max >= 0 && result.Count == max)
                {
                    result.Add(s[i..].TrimEnd(PythonText.WhitespaceChars));
                    break;
                }
                int start = i;
                while (i < s.Length && !PythonText.IsWhitespace(s[i])) i++;
                result.Add(s[start..i]);
            }
            return result;
        }
        string separator = JinjaValues.AsString(sep, "split() separator");
        if (separator.Length == 0) throw new JinjaError("empty separator");
        int pos = 0;
        while (max < 0 || result.Count < max)
        {
            int next = s.IndexOf(separator, pos, StringComparison.Ordinal);
            if (next < 0) break;
            result.Add(s[pos..next]);
            pos = next + separator.Length;
        }
        result.Add(s[pos..]);
        return result;
    }

    private static List<object?> RSplit(string s, object? sep, object? maxsplit)
    {
        long max = JinjaValues.AsInt(maxsplit, "maxsplit");
        if (max < 0 || sep is null) return Split(s, sep, maxsplit);
        string separator = JinjaValues.AsString(sep, "rsplit() separator");
        var result = new List<object?>();
        int end = s.Length;
        while (result.Count < max)
        {
            int at = end - separator.Length < 0 ? -1 : s.LastIndexOf(separator, end - 1, end, StringComparison.Ordinal);
            if (at < 0 || at + separator.Length > end) break;
            result.Insert(0, s[(at + separator.Length)..end]);
            end = at;
        }
        result.Insert(0, s[..end]);
        return result;
    }

    private static bool Affix(string s, object? affix, bool start)
    {
        if (affix is object?[] options) return options.Any(o => Affix(s, o, start));
        string a = JinjaValues.AsString(affix, start ? "startswith() argument" : "endswith() argument");
        return start ? s.StartsWith(a, StringComparison.Ordinal) : s.EndsWith(a, StringComparison.Ordinal);
    }

    /// <summary>Python's str.title(): a letter after a non-letter is upper-cased, other letters lower-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (char c in s)
        {
            bool cased = char.IsLetter(c);
            sb.Append(cased ? previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c) : c);
            previousCased = cased;
        }
        return sb.ToString();
    }

    /// <summary>Python's str.capitalize(): the first character upper-cased, the rest lower-cased.</summary>
    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? InsertEverywhere(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
            if (old.Length == 0) { if (pos < s.Length) sb.Append(s[pos]); pos++; }
        }
        if (pos < s.Length) sb.Append(s, pos, s.Length - pos);
        return sb.ToString();
    }

    private static string InsertEverywhere(string s, string r)
    {
        var sb = new StringBuilder(r);
        foreach (char c in s) sb.Append(c).Append(r);
        return sb.ToString();
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        int n = 0, pos = 0;
        while ((pos = s.IndexOf(sub, pos, StringComparison.Ordinal)) >= 0) { n++; pos += sub.Length; }
        return n;
    }
}
