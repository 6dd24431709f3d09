// The few Python str operations the reference metric scripts rely on, with Python's semantics:
// str.split() with no argument splits on runs of Unicode whitespace as CPython defines it
// (Py_UNICODE_ISSPACE, which unlike .NET's char.IsWhiteSpace includes U+001C..U+001F), and
// str.lower(). Python's lower differs from ToLowerInvariant only on a handful of code points
// (U+0130 and a final capital sigma); those are not special-cased.
namespace Loom.Evaluation.Metrics;

internal static class PythonText
{
    /// <summary>CPython's str.isspace for one UTF-16 unit (every whitespace code point is in the BMP).</summary>
    public static bool IsSpace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' => true,
        >= '\u001C' and <= '\u001F' => true,
        '\u0085' or '\u00A0' or '\u1680' or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u3000' => true,
        >= '\u2000' and <= '\u200A' => true,
        _ => false,
    };

    /// <summary>str.split(): the non-empty runs between whitespace.</summary>
    public static List<string> Split(string s)
    {
        var parts = new List<string>();
        int i = 0, n = s.Length;
        while (i < n)
        {
            while (i < n && IsSpace(s[i])) i++;
            int start = i;
            while (i < n && !IsSpace(s[i])) i++;
            if (i > start) parts.Add(s.Substring(start, i - start));
        }
        return parts;
    }

    /// <summary>' '.join(s.split()).</summary>
    public static string CollapseSpaces(string s) => string.Join(' ', Split(s));

    /// <summary>str.rstrip(): trailing whitespace removed.</summary>
    public static string RStrip(string s)
    {
        int end = s.Length;
        while (end > 0 && IsSpace(s[end - 1])) end--;
        return end == s.Length ? s : s[..end];
    }

    /// <summary>str.lower().</summary>
    public static string Lower(string s) => s.ToLowerInvariant();

    /// <summary>Python's string.punctuation: the 32 ASCII punctuation characters.</summary>
    public static bool IsAsciiPunctuation(char c) => c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~';

    /// <summary>The code points of <paramref name="s"/> as strings (Python indexes str by code point, .NET by UTF-16 unit).</summary>
    public static int[] CodePointStarts(string s)
    {
        var starts = new List<int>(s.Length + 1);
        for (int i = 0; i < s.Length; i++)
        {
            starts.Add(i);
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
        }
        starts.Add(s.Length);
        return [.. starts];
    }
}
