// sacreBLEU's tokenizers (mjpost/sacrebleu, sacrebleu/tokenizers/): "13a" (mteval-v13a.pl, the
// default: unescape &quot; &amp; &lt; &gt;, split punctuation and symbols, split period and comma
// unless next to a digit, split a dash after a digit), "intl" (mteval-v14 international: split Unicode
// punctuation not next to digits and every symbol), "char" (every character a token) and "none".
using System.Text.RegularExpressions;

namespace Loom.Evaluation.Metrics;

/// <summary>Tokenizes a segment the way sacreBLEU's named tokenizer does.</summary>
public static class BleuTokenizer
{
    /// <summary>The tokenizer names this implementation knows.</summary>
    public static readonly IReadOnlyList<string> Names = ["13a", "intl", "char", "none"];

    // 13a, after the unescaping: TokenizerRegexp's four substitutions, in order.
    private static readonly (Regex Pattern, string Replacement)[] Regexp13a =
    [
        (new Regex(@"([\{-\~\[-\` -\&\(-\+\:-\@\/])", RegexOptions.CultureInvariant), " $1 "),
        (new Regex(@"([^0-9])([\.,])", RegexOptions.CultureInvariant), "$1 $2 "),
        (new Regex(@"([\.,])([^0-9])", RegexOptions.CultureInvariant), " $1 $2"),
        (new Regex(@"([0-9])(-)", RegexOptions.CultureInvariant), "$1 $2 "),
    ];

    private static readonly (Regex Pattern, string Replacement)[] RegexpIntl =
    [
        (new Regex(@"(\P{N})(\p{P})", RegexOptions.CultureInvariant), "$1 $2 "),
        (new Regex(@"(\p{P})(\P{N})", RegexOptions.CultureInvariant), " $1 $2"),
        (new Regex(@"(\p{S})", RegexOptions.CultureInvariant), " $1 "),
    ];

    /// <summary>The tokenized line, tokens separated by single spaces.</summary>
    public static string Tokenize(string line, string tokenizer) => tokenizer switch
    {
        "13a" => Tokenize13a(line),
        "intl" => Apply(RegexpIntl, line),
        "char" => string.Join(' ', Runes(line)),
        "none" => line,
        _ => throw new ArgumentException($"BLEU tokenizer \"{tokenizer}\" is not known; use one of: {string.Join(", ", Names)}.", nameof(tokenizer)),
    };

    private static string Tokenize13a(string line)
    {
        line = line.Replace("<skipped>", "", StringComparison.Ordinal).Replace("-\n", "", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
        if (line.Contains('&'))
            line = line.Replace("&quot;", "\"", StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal)
                .Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal);
        return Apply(Regexp13a, " " + line + " ");
    }

    private static string Apply((Regex Pattern, string Replacement)[] rules, string line)
    {
        foreach (var (pattern, replacement) in rules) line = pattern.Replace(line, replacement);
        return PythonText.CollapseSpaces(line);
    }

    private static IEnumerable<string> Runes(string line)
    {
        foreach (var r in line.EnumerateRunes()) yield return r.ToString();
    }
}
