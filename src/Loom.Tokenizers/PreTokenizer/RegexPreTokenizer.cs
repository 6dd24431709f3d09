// Splits text into pieces with the tokenizer's regex, as tiktoken and HF's Split/ByteLevel do.
// The published patterns are written for Rust's regex (and PCRE): .NET has no possessive
// quantifiers (X++, X*+, X?+, X{m,n}+), so each is rewritten as an atomic group (?>X+), which
// matches the same strings; and Rust's `$` (end of text without multiline) becomes `\z`, since
// .NET's `$` also matches before a final '\n'.
// Known limit: .NET matches UTF-16 code units, so a letter or digit outside the BMP (U+10000+,
// e.g. mathematical alphanumerics, CJK Extension B) is seen as two surrogates (category Cs) and
// splits like punctuation; Rust sees one letter. Emoji and other symbols split identically.
using System.Text;
using System.Text.RegularExpressions;

namespace Loom.Tokenizers.PreTokenizer;

/// <summary>A regex pre-tokenizer.</summary>
public sealed class RegexPreTokenizer
{
    /// <summary>The pattern as given (Rust/PCRE syntax).</summary>
    public string Pattern { get; }

    /// <summary>The compiled .NET regex.</summary>
    public Regex Regex { get; }

    // A Regex caches one runner; a second thread matching at the same time builds a new runner
    // on every call, which made 2-thread encoding slower than 1. Each thread gets its own copy.
    private readonly ThreadLocal<Regex> _perThread;
    private readonly string _translated;

    /// <summary>Compiles <paramref name="pattern"/> after translating it to .NET syntax.</summary>
    /// <exception cref="ArgumentException">The pattern is empty, does not compile, or can match the empty string.</exception>
    public RegexPreTokenizer(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        Pattern = pattern;
        if (pattern.Length == 0)
            throw new ArgumentException("The pre-tokenizer pattern is empty; give a regex that matches words, e.g. GPT-2's, or the name of an encoding (cl100k_base).");
        string translated;
        try
        {
            translated = TranslateToDotNet(pattern);
            Regex = new Regex(translated, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The pre-tokenizer pattern \"{pattern}\" cannot be compiled: {e.Message}", e);
        }
        _translated = translated;
        // A piece of zero chars encodes to nothing, and a pattern that matches "" can also split text
        // between the bytes of one character: refuse it here instead of failing (or dropping text) in encode.
        foreach (string probe in EmptyMatchProbes)
            foreach (var m in Regex.EnumerateMatches(probe))
                if (m.Length == 0)
                    throw new ArgumentException(
                        $"The pre-tokenizer pattern \"{pattern}\" can match the empty string (at index {m.Index} of \"{probe.ReplaceLineEndings("\\n")}\"); " +
                        "every alternative must consume at least one character (use + rather than *, and no empty alternative).");
        _perThread = new ThreadLocal<Regex>(() => new Regex(_translated, RegexOptions.Compiled | RegexOptions.CultureInvariant));
    }

    // Texts that expose a pattern able to match "": an empty-matching alternative shows up at the
    // start, the end or between two different kinds of character in at least one of them.
    private static readonly string[] EmptyMatchProbes =
        ["", " ", "a", "Z", "7", "!", "\n", "\t", "é", "日本", "😀", "'s", "a b", "hello, world 42!\n\n  x"];

    /// <summary>The pieces of <paramref name="text"/>: the regex's matches and, as Hugging Face's Split(Isolated), any text between them.</summary>
    public PieceEnumerator Split(ReadOnlySpan<char> text) => new(_perThread.Value!.EnumerateMatches(text), text.Length);

    /// <summary>Rewrites possessive quantifiers as atomic groups and `$` as `\z`.</summary>
    public static string TranslateToDotNet(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        // Stack of output positions where the atom that a quantifier follows began.
        int i = 0;
        int lastAtomStart = -1;
        var groupStarts = new Stack<int>();
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\\')
            {
                int len = EscapeLength(pattern, i);
                lastAtomStart = sb.Length;
                sb.Append(pattern, i, len);
                i += len;
            }
            else if (c == '[')
            {
                int len = ClassLength(pattern, i);
                lastAtomStart = sb.Length;
                sb.Append(pattern, i, len);
                i += len;
            }
            else if (c == '(')
            {
                groupStarts.Push(sb.Length);
                sb.Append(c);
                i++;
                lastAtomStart = -1;
            }
            else if (c == ')')
            {
                sb.Append(c);
                i++;
                lastAtomStart = groupStarts.Count > 0 ? groupStarts.Pop() : -1;
            }
            else if (c is '+' or '*' or '?' or '{')
            {
                int len = c == '{' ? pattern.IndexOf('}', i) - i + 1 : 1;
                if (len <= 0) throw new ArgumentException($"Unclosed '{{' at offset {i} in pattern: {pattern}");
                sb.Append(pattern, i, len);
                i += len;
                if (i < pattern.Length && pattern[i] == '+' && lastAtomStart >= 0)
                {
                    // Possessive: wrap the atom and its quantifier in an atomic group.
                    sb.Insert(lastAtomStart, "(?>");
                    sb.Append(')');
                    i++;
                }
                else if (i < pattern.Length && pattern[i] == '?')
                {
                    sb.Append('?'); // lazy quantifier, same in .NET
                    i++;
                }
                lastAtomStart = -1;
            }
            else if (c == '$')
            {
                sb.Append(@"\z");
                i++;
                lastAtomStart = -1;
            }
            else
            {
                lastAtomStart = sb.Length;
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    private static int EscapeLength(string p, int i)
    {
        if (i + 1 >= p.Length) throw new ArgumentException($"Pattern ends with a lone backslash: {p}");
        char e = p[i + 1];
        if ((e == 'p' || e == 'P') && i + 2 < p.Length && p[i + 2] == '{')
        {
            int close = p.IndexOf('}', i);
            if (close < 0) throw new ArgumentException($"Unclosed \\p{{ at offset {i} in pattern: {p}");
            return close - i + 1;
        }
        if (e == 'x' && i + 2 < p.Length && p[i + 2] == '{')
            return p.IndexOf('}', i) - i + 1;
        if (e == 'x') return 4;
        if (e == 'u') return 6;
        return 2;
    }

    private static int ClassLength(string p, int i)
    {
        int j = i + 1;
        if (j < p.Length && p[j] == '^') j++;
        if (j < p.Length && p[j] == ']') j++; // a leading ']' is literal
        while (j < p.Length && p[j] != ']')
        {
            if (p[j] == '\\') j += EscapeLength(p, j);
            else j++;
        }
        if (j >= p.Length) throw new ArgumentException($"Unclosed '[' at offset {i} in pattern: {p}");
        return j - i + 1;
    }
}
