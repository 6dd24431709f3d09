// How Python writes values as text, which is what jinja2 prints: str() and repr() of None, bools, ints,
// floats (the shortest repr that round-trips, switching to exponent form as CPython's float_repr_style
// 'short' does: decimal exponent below -4 or from 16 up), strings, lists, tuples and dicts; and which
// characters str.strip()/str.split() treat as whitespace (str.isspace: Unicode White_Space plus \x1c-\x1f).
using System.Globalization;
using System.Text;

namespace Loom.Inference.Templates;

internal static class PythonText
{
    public static readonly char[] WhitespaceChars = BuildWhitespace();

    private static char[] BuildWhitespace()
    {
        var list = new List<char>();
        for (int c = 0; c <= 0xFFFF; c++) if (IsWhitespace((char)c)) list.Add((char)c);
        return list.ToArray();
    }

    public static bool IsWhitespace(char c) =>
        c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f' || (c >= '\x1c' && c <= '\x1f') || (c > 0x7f && char.IsWhiteSpace(c));

    /// <summary>Python's str.splitlines(): splits at \n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028, U+2029; no final empty line.</summary>
    public static List<object?> SplitLines(string s)
    {
        var lines = new List<object?>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                lines.Add(s[start..i]);
                if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
                start = i + 1;
            }
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    /// <summary>Python's str(value) as jinja2 prints it (Undefined prints as nothing).</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        JinjaUndefined => "",
        _ => Repr(value),
    };

    public static void AppendStr(StringBuilder sb, object? value)
    {
        if (value is string s) sb.Append(s);
        else if (value is long l) sb.Append(l);
        else if (value is not JinjaUndefined) sb.Append(Repr(value));
    }

    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value);
        return sb.ToString();
    }

    public static void AppendRepr(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case string s: AppendStringRepr(sb, s); break;
            case JinjaUndefined: sb.Append(""); break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, list[i]);
                }
                sb.Append(']');
                break;
            case object?[] tuple:
                sb.Append('(');
                for (int i = 0; i < tuple.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, tuple[i]);
                }
                if (tuple.Length == 1) sb.Append(',');
                sb.Append(')');
                break;
            case JinjaDict dict:
                sb.Append('{');
                bool first = true;
                foreach (var pair in dict)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendRepr(sb, pair.Key);
                    sb.Append(": ");
                    AppendRepr(sb, pair.Value);
                }
                sb.Append('}');
                break;
            case JinjaNamespace ns:
                sb.Append("<Namespace ");
                AppendRepr(sb, ns.Values);
                sb.Append('>');
                break;
            default: sb.Append(value.ToString()); break;
        }
    }

    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            if (c == quote || c == '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        sb.Append(quote);
    }

    /// <summary>CPython's repr(float): shortest round-trip digits, exponent form when the exponent is &lt; -4 or ≥ 16.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // "E16" is not shortest; "R" is shortest round-trip on .NET Core 3.0+. Take its digits and exponent.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int exp = 0;
        int e = r.IndexOfAny(['E', 'e']);
        string mantissa = r;
        if (e >= 0)
        {
            exp = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = r[..e];
        }
        int dot = mantissa.IndexOf('.');
        string intPart = dot < 0 ? mantissa : mantissa[..dot];
        string fracPart = dot < 0 ? "" : mantissa[(dot + 1)..];
        string digits = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - (intPart + fracPart).TrimStart('0').Length;
        // value = 0.digits × 10^decpt
        int decpt = intPart.Length + exp - leadingZeros;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        var sb = new StringBuilder();
        if (d < 0) sb.Append('-');
        if (decpt > -4 && decpt <= 16)
        {
            if (decpt <= 0)
            {
                sb.Append("0.").Append('0', -decpt).Append(digits);
            }
            else if (decpt >= digits.Length)
            {
                sb.Append(digits).Append('0', decpt - digits.Length).Append(".0");
            }
            else
            {
                sb.Append(digits, 0, decpt).Append('.').Append(digits, decpt, digits.Length - decpt);
            }
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            int x = decpt - 1;
            sb.Append('e').Append(x < 0 ? '-' : '+').Append(Math.Abs(x).ToString("00", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
