// Python semantics for template values, as jinja2 inherits them: truthiness, == (deep, 1 == 1.0 == True),
// ordering, arithmetic (+ joins strings and lists, / is true division, // and % floor as Python does),
// "in", iteration (a dict iterates its keys, a string its characters), len(), and jinja2's attribute and
// item lookup (environment.getattr / getitem: a missing attribute or item is Undefined, but any lookup
// on an Undefined raises UndefinedError).
// Values: null (None), JinjaUndefined, bool, long, double, string, List<object?> (list), object?[] (tuple),
// JinjaDict, JinjaNamespace, JinjaLoop, JinjaCallable.
using System.Globalization;

namespace Loom.Inference.Templates;

internal static class JinjaValues
{
    public static bool IsTrue(object? v) => v switch
    {
        null => false,
        JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        object?[] tuple => tuple.Length > 0,
        JinjaDict dict => dict.Count > 0,
        _ => true,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        JinjaUndefined => "Undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        JinjaDict => "dict",
        JinjaNamespace => "Namespace",
        JinjaLoop => "LoopContext",
        JinjaCallable => "function",
        _ => v.GetType().Name,
    };

    public static JinjaError Undefined(JinjaUndefined u) => new(u.Hint);

    public static bool IsNumber(object? v) => v is long or double or bool;

    private static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError($"'{TypeName(v)}' is not a number"),
    };

    internal static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError($"'{TypeName(v)}' is not an integer"),
    };

    public static bool PyEquals(object? a, object? b)
    {
        if (a is JinjaUndefined || b is JinjaUndefined) return a is JinjaUndefined && b is JinjaUndefined;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a) == ToDouble(b);
            return ToLong(a) == ToLong(b);
        }
        switch (a)
        {
            case string sa: return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
            case List<object?> la:
                if (b is not List<object?> lb || la.Count != lb.Count) return false;
                for (int i = 0; i < la.Count; i++) if (!PyEquals(la[i], lb[i])) return false;
                return true;
            case object?[] ta:
                if (b is not object?[] tb || ta.Length != tb.Length) return false;
                for (int i = 0; i < ta.Length; i++) if (!PyEquals(ta[i], tb[i])) return false;
                return true;
            case JinjaDict da:
                if (b is not JinjaDict db || da.Count != db.Count) return false;
                foreach (var pair in da)
                {
                    if (!db.TryGetValue(pair.Key, out var other) || !PyEquals(pair.Value, other)) return false;
                }
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    /// <summary>Python's ordering for &lt; &gt; &lt;= &gt;=: numbers, strings (by code point), lists and tuples.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a).CompareTo(ToDouble(b));
            return ToLong(a).CompareTo(ToLong(b));
        }
        if (a is string sa && b is string sb) return CompareCodePoints(sa, sb);
        if (a is List<object?> la && b is List<object?> lb) return CompareSequences(la, lb, op);
        if (a is object?[] ta && b is object?[] tb) return CompareSequences(ta, tb, op);
        if (a is JinjaUndefined u) throw Undefined(u);
        if (b is JinjaUndefined u2) throw Undefined(u2);
        throw new JinjaError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static int CompareSequences(IReadOnlyList<object?> a, IReadOnlyList<object?> b, string op)
    {
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            if (PyEquals(a[i], b[i])) continue;
            return Compare(a[i], b[i], op);
        }
        return a.Count.CompareTo(b.Count);
    }

    private static int CompareCodePoints(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            int ca = NextCodePoint(a, ref i), cb = NextCodePoint(b, ref j);
            if (ca != cb) return ca.CompareTo(cb);
        }
        return (i < a.Length).CompareTo(j < b.Length);
    }

    private static int NextCodePoint(string s, ref int i)
    {
        if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            int c = char.ConvertToUtf32(s[i], s[i + 1]);
            i += 2;
            return c;
        }
        return s[i++];
    }

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string needle) throw new JinjaError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                return s.Contains(needle, StringComparison.Ordinal);
            case List<object?> list:
                foreach (var x in list) if (PyEquals(x, item)) return true;
                return false;
            case object?[] tuple:
                foreach (var x in tuple) if (PyEquals(x, item)) return true;
                return false;
            case JinjaDict dict: return dict.ContainsKey(item!) && item is not null;
            case JinjaUndefined: return false;
            default: throw new JinjaError($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    public static IReadOnlyList<object?> Iterate(object? v)
    {
        switch (v)
        {
            case List<object?> list: return list;
            case object?[] tuple: return tuple;
            case JinjaDict dict: return dict.Keys.ToList()!;
            case string s:
            {
                var chars = new List<object?>(s.Length);
                for (int i = 0; i < s.Length; i++)
                {
                    if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        chars.Add(s.Substring(i, 2));
                        i++;
                    }
                    else chars.Add(s[i].ToString());
                }
                return chars;
            }
            case JinjaUndefined: return [];
            default: throw new JinjaError($"'{TypeName(v)}' object is not iterable");
        }
    }

    public static long Length(object? v) => v switch
    {
        string s => CodePointCount(s),
        List<object?> list => list.Count,
        object?[] tuple => tuple.Length,
        JinjaDict dict => dict.Count,
        JinjaUndefined => 0,
        _ => throw new JinjaError($"object of type '{TypeName(v)}' has no len()"),
    };

    public static long CodePointCount(string s)
    {
        long n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            n++;
        }
        return n;
    }

    public static object? Add(object? a, object? b)
    {
        if (a is JinjaUndefined u) throw Undefined(u);
        if (b is JinjaUndefined u2) throw Undefined(u2);
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? (object)(ToDouble(a) + ToDouble(b)) : checked(ToLong(a) + ToLong(b));
        if (a is string sa && b is string sb) return string.Concat(sa, sb);
        if (a is List<object?> la && b is List<object?> lb)
        {
            var r = new List<object?>(la.Count + lb.Count);
            r.AddRange(la);
            r.AddRange(lb);
            return r;
        }
        if (a is object?[] ta && b is object?[] tb) return ta.Concat(tb).ToArray();
        throw new JinjaError(a is string || b is string
            ? $"can only concatenate str (not \"{TypeName(a is string ? b : a)}\") to str"
            : $"unsupported operand type(s) for +: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static object? Arithmetic(string op, object? a, object? b)
    {
        if (a is JinjaUndefined u) throw Undefined(u);
        if (b is JinjaUndefined u2) throw Undefined(u2);
        if (op == "+") return Add(a, b);
        if (op == "*")
        {
            if (a is string s && b is long or bool) return Repeat(s, ToLong(b));
            if (b is string s2 && a is long or bool) return Repeat(s2, ToLong(a));
            if (a is List<object?> l && b is long or bool) return RepeatList(l, ToLong(b));
        }
        if (!IsNumber(a) || !IsNumber(b))
            throw new JinjaError($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
        bool isFloat = a is double || b is double;
        switch (op)
        {
            case "-": return isFloat ? (object)(ToDouble(a) - ToDouble(b)) : checked(ToLong(a) - ToLong(b));
            case "*": return isFloat ? (object)(ToDouble(a) * ToDouble(b)) : checked(ToLong(a) * ToLong(b));
            case "/":
                if (ToDouble(b) == 0) throw new JinjaError("division by zero");
                return ToDouble(a) / ToDouble(b);
            case "//":
                if (ToDouble(b) == 0) throw new JinjaError("integer division or modulo by zero");
                if (isFloat) return Math.Floor(ToDouble(a) / ToDouble(b));
                return FloorDiv(ToLong(a), ToLong(b));
            case "%":
                if (ToDouble(b) == 0) throw new JinjaError("integer division or modulo by zero");
                if (isFloat)
                {
                    double x = ToDouble(a), y = ToDouble(b), m = x % y;
                    return m != 0 && (m < 0) != (y < 0) ? m + y : m;
                }
                long la2 = ToLong(a), lb2 = ToLong(b);
                return la2 - FloorDiv(la2, lb2) * lb2;
            case "**":
                if (!isFloat && ToLong(b) >= 0)
                {
                    long result = 1, baseValue = ToLong(a);
                    for (long i = 0; i < ToLong(b); i++) result = checked(result * baseValue);
                    return result;
                }
                return Math.Pow(ToDouble(a), ToDouble(b));
        }
        throw new JinjaError($"unknown operator {op}");
    }

    private static long FloorDiv(long a, long b)
    {
        long q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
        return q;
    }

    // An empty string or list repeated any number of times is empty (and must not loop n times).
    private static string Repeat(string s, long n) => n <= 0 || s.Length == 0 ? "" : string.Concat(Enumerable.Repeat(s, checked((int)n)));

    private static List<object?> RepeatList(List<object?> l, long n)
    {
        if (n <= 0 || l.Count == 0) return [];
        var r = new List<object?>(checked((int)Math.Min((long)int.MaxValue, l.Count * n)));
        for (long i = 0; i < n; i++) r.AddRange(l);
        return r;
    }

    public static object? Negate(object? v) => v switch
    {
        long l => (object)checked(-l),
        double d => (object)(-d),
        bool b => (object)(b ? -1L : 0L),
        JinjaUndefined u => throw Undefined(u),
        _ => throw new JinjaError($"bad operand type for unary -: '{TypeName(v)}'"),
    };

    /// <summary>jinja2's environment.getattr: the attribute (a method) first, then the item.</summary>
    public static object? GetAttribute(object? target, string name)
    {
        if (target is JinjaUndefined u) throw Undefined(u);
        var method = JinjaMethods.Bind(target, name);
        if (method is not null) return method;
        switch (target)
        {
            case JinjaDict dict:
                return dict.TryGetValue(name, out var v) ? v : new JinjaUndefined($"'dict object' has no attribute '{name}'");
            case JinjaNamespace ns:
                return ns.Values.TryGetValue(name, out var nv) ? nv : new JinjaUndefined($"'Namespace object' has no attribute '{name}'");
            case JinjaLoop loop:
                return loop.Get(name);
        }
        return new JinjaUndefined($"'{TypeName(target)} object' has no attribute '{name}'");
    }

    /// <summary>jinja2's environment.getitem: the item first, then (for a string key) the attribute.</summary>
    public static object? GetItem(object? target, object? key)
    {
        if (target is JinjaUndefined u) throw Undefined(u);
        switch (target)
        {
            case JinjaDict dict when key is not null && key is not JinjaUndefined:
                if (dict.TryGetValue(key, out var v)) return v;
                break;
            case List<object?> list when key is long or bool:
            {
                long i = ToLong(key);
                if (i < 0) i += list.Count;
                if (i >= 0 && i < list.Count) return list[(int)i];
                return new JinjaUndefined($"list object has no element {ToLong(key)}");
            }
            case object?[] tuple when key is long or bool:
            {
                long i = ToLong(key);
                if (i < 0) i += tuple.Length;
                if (i >= 0 && i < tuple.Length) return tuple[(int)i];
                return new JinjaUndefined($"tuple object has no element {ToLong(key)}");
            }
            case string s when key is long or bool:
            {
                var chars = Iterate(s);
                long i = ToLong(key);
                if (i < 0) i += chars.Count;
                if (i >= 0 && i < chars.Count) return chars[(int)i];
                return new JinjaUndefined($"str object has no element {ToLong(key)}");
            }
        }
        if (key is string name) return GetAttribute(target, name);
        return new JinjaUndefined($"'{TypeName(target)} object' has no attribute {PythonText.Repr(key)}");
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is JinjaUndefined u) throw Undefined(u);
        long? s0 = OptionalIndex(start), s1 = OptionalIndex(stop), st = OptionalIndex(step);
        long stepValue = st ?? 1;
        if (stepValue == 0) throw new JinjaError("slice step cannot be zero");
        IReadOnlyList<object?> items = target switch
        {
            string s => Iterate(s),
            List<object?> list => list,
            object?[] tuple => tuple,
            _ => throw new JinjaError($"'{TypeName(target)}' object is not subscriptable"),
        };
        int n = items.Count;
        // Python's slice.indices().
        long lo, hi;
        if (stepValue > 0)
        {
            lo = s0 is null ? 0 : Clamp(s0.Value < 0 ? s0.Value + n : s0.Value, 0, n);
            hi = s1 is null ? n : Clamp(s1.Value < 0 ? s1.Value + n : s1.Value, 0, n);
        }
        else
        {
            lo = s0 is null ? n - 1 : Clamp(s0.Value < 0 ? s0.Value + n : s0.Value, -1, n - 1);
            hi = s1 is null ? -1 : Clamp(s1.Value < 0 ? s1.Value + n : s1.Value, -1, n - 1);
        }
        var result = new List<object?>();
        if (stepValue > 0) for (long i = lo; i < hi; i += stepValue) result.Add(items[(int)i]);
        else for (long i = lo; i > hi; i += stepValue) result.Add(items[(int)i]);
        return target switch
        {
            string => string.Concat(result.Cast<string>()),
            object?[] => result.ToArray(),
            _ => result,
        };
    }

    private static long Clamp(long v, long lo, long hi) => Math.Min(Math.Max(v, lo), hi);

    private static long? OptionalIndex(object? v) => v switch
    {
        null => null,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError("slice indices must be integers or None"),
    };

    public static long AsInt(object? v, string what) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError($"{what} must be an integer, not {TypeName(v)}"),
    };

    public static string AsString(object? v, string what) => v switch
    {
        string s => s,
        _ => throw new JinjaError($"{what} must be a string, not {TypeName(v)}"),
    };

    public static string Format(double d) => d.ToString(CultureInfo.InvariantCulture);
}
