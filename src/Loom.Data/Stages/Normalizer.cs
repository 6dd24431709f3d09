// Text normalisation before any filter looks at a document: optional HTML to text (tags dropped,
// <br> and block tags become line breaks, script/style removed, entities decoded), Unicode
// normalisation (NFC by default; NFKC also folds compatibility forms such as full-width letters and
// ligatures), control characters removed (tab and newline kept), runs of spaces collapsed, trailing
// spaces cut, and more than one blank line reduced to one. A document empty afterwards is removed.
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Loom.Data.Documents;

namespace Loom.Data.Stages;

/// <summary>Normalisation settings.</summary>
public sealed record NormalizerOptions
{
    /// <summary>"nfc", "nfkc" or "none".</summary>
    public string Unicode { get; init; } = "nfc";
    /// <summary>Drop control and format characters other than \t and \n (\r\n becomes \n).</summary>
    public bool RemoveControl { get; init; } = true;
    /// <summary>Collapse space runs, trim line ends, keep at most one blank line.</summary>
    public bool Whitespace { get; init; } = true;
    /// <summary>Convert HTML markup to text.</summary>
    public bool Html { get; init; }
}

/// <summary>The normalisation stage.</summary>
public sealed partial class Normalizer(NormalizerOptions? options = null) : IDocumentStage
{
    private readonly NormalizerOptions _o = Validate(options ?? new NormalizerOptions());

    private static NormalizerOptions Validate(NormalizerOptions o) =>
        o.Unicode is "nfc" or "nfkc" or "none" ? o : throw new ArgumentException($"normalize.unicode is \"{o.Unicode}\"; use nfc, nfkc or none.");

    /// <inheritdoc/>
    public string Name => "normalize";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        document.Text = Apply(document.Text);
        return document.Text.Length == 0 ? Verdict.Remove("empty", "no text left after normalisation") : Verdict.Keep;
    }

    /// <summary>The normalised form of <paramref name="text"/>.</summary>
    public string Apply(string text)
    {
        if (_o.Html && text.Contains('<')) text = HtmlToText(text);
        if (_o.Unicode != "none")
        {
            var form = _o.Unicode == "nfkc" ? NormalizationForm.FormKC : NormalizationForm.FormC;
            if (!text.IsNormalized(form)) text = text.Normalize(form);
        }
        if (_o.RemoveControl || _o.Whitespace) text = Clean(text);
        return text;
    }

    // Printable ASCII with single spaces and no space at either end is already clean (most text):
    // two vectorised searches decide it.
    private static bool AlreadyClean(string text)
    {
        var span = text.AsSpan();
        return span.Length > 0 && span.IndexOfAnyExceptInRange(' ', '~') < 0 && span.IndexOf("  ", StringComparison.Ordinal) < 0 && span[0] != ' ' && span[^1] != ' ';
    }

    private string Clean(string text)
    {
        if (AlreadyClean(text)) return text;
        var sb = new StringBuilder(text.Length);
        int blankRun = 0;
        bool lineHasText = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\r') { if (i + 1 < text.Length && text[i + 1] == '\n') continue; c = '\n'; }
            if (_o.RemoveControl && c != '\n' && c != '\t' && (char.IsControl(c) || IsInvisibleFormat(c))) continue;
            if (!_o.Whitespace) { sb.Append(c); continue; }
            if (c == '\n')
            {
                while (sb.Length > 0 && sb[^1] == ' ') sb.Length--;   // trailing spaces
                if (!lineHasText) { if (++blankRun > 1 || sb.Length == 0) continue; }
                else blankRun = 0;
                sb.Append('\n');
                lineHasText = false;
                continue;
            }
            if (c == '\t' || char.IsWhiteSpace(c))
            {
                if (!lineHasText || sb[^1] == ' ') continue;            // leading or repeated spaces
                sb.Append(' ');
                continue;
            }
            sb.Append(c);
            lineHasText = true;
            blankRun = 0;
        }
        while (sb.Length > 0 && char.IsWhiteSpace(sb[^1])) sb.Length--;
        return sb.Length == text.Length && sb.Equals(text.AsSpan()) ? text : sb.ToString();
    }

    // Zero-width and bidi controls (Cf) other than the joiners that change how scripts render.
    private static bool IsInvisibleFormat(char c) =>
        char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format && c is not ('\u200C' or '\u200D');

    /// <summary>Markup to text: script/style/comments dropped, block tags and &lt;br&gt; become newlines, entities decoded.</summary>
    public static string HtmlToText(string html)
    {
        string s = ScriptOrStyle().Replace(html, " ");
        s = Comment().Replace(s, " ");
        s = LineBreakTag().Replace(s, "\n");
        s = AnyTag().Replace(s, "");
        return WebUtility.HtmlDecode(s);
    }

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ScriptOrStyle();
    [GeneratedRegex(@"<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex Comment();
    [GeneratedRegex(@"<\s*(br|/?p|/?div|/?li|/?h[1-6]|/?tr|/?ul|/?ol|/?table|/?blockquote)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex LineBreakTag();
    [GeneratedRegex(@"</?[a-zA-Z][^>]*>")]
    private static partial Regex AnyTag();
}
