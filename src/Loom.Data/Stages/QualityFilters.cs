// Heuristic quality filters with the thresholds of their papers (as datatrove ships them):
//  - Gopher quality rules, Rae et al. 2021 ("Scaling Language Models: Methods, Analysis & Insights
//    from Training Gopher"), appendix A.1.1;
//  - C4 rules, Raffel et al. 2020 (T5), section 2.2, applied per line then per document;
//  - Gopher repetition rules, Rae et al. 2021, table A1: duplicate line/paragraph fractions, the
//    character share of the most frequent 2–4-gram and of repeated 5–10-grams.
using System.Text;
using Loom.Data.Documents;

namespace Loom.Data.Stages;

/// <summary>Gopher quality thresholds (Rae et al. 2021).</summary>
public sealed record GopherQualityOptions
{
    public int MinWords { get; init; } = 50;
    public int MaxWords { get; init; } = 100_000;
    public double MinMeanWordLength { get; init; } = 3;
    public double MaxMeanWordLength { get; init; } = 10;
    /// <summary>Most '#' or ellipses per word.</summary>
    public double MaxSymbolWordRatio { get; init; } = 0.1;
    /// <summary>Most lines starting with a bullet.</summary>
    public double MaxBulletLines { get; init; } = 0.9;
    /// <summary>Most lines ending with an ellipsis.</summary>
    public double MaxEllipsisLines { get; init; } = 0.3;
    /// <summary>Least share of words holding a letter.</summary>
    public double MinAlphaWords { get; init; } = 0.8;
    /// <summary>Least count of the English stop words "the, be, to, of, and, that, have, with".</summary>
    public int MinStopWords { get; init; } = 2;
}

/// <summary>Gopher quality filter.</summary>
public sealed class GopherQualityFilter(GopherQualityOptions? options = null) : IDocumentStage
{
    private static readonly HashSet<string> StopWords = ["the", "be", "to", "of", "and", "that", "have", "with"];
    private static readonly char[] Bullets = ['•', '●', '○', '■', '□', '▪', '▫', '–', '-', '*', '‣', '⁃', '◦'];
    private readonly GopherQualityOptions _o = options ?? new GopherQualityOptions();

    /// <inheritdoc/>
    public string Name => "gopher_quality";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        string text = document.Text;
        var words = Words.Scratch;
        Words.Split(text, words);
        int real = 0, alpha = 0, stop = 0;
        long letters = 0;
        foreach (var r in words)
        {
            var w = text.AsSpan(r);
            if (Words.IsSymbolOnly(w)) continue;
            real++;
            letters += w.Length;
            bool hasLetter = false;
            foreach (char c in w) if (char.IsLetter(c)) { hasLetter = true; break; }
            if (hasLetter) alpha++;
            if (stop < _o.MinStopWords && w.Length <= 5 && StopWords.Contains(Words.Clean(w))) stop++;
        }
        if (real < _o.MinWords) return Verdict.Remove("gopher_short_doc", $"{real} words < {_o.MinWords}");
        if (real > _o.MaxWords) return Verdict.Remove("gopher_long_doc", $"{real} words > {_o.MaxWords}");
        double mean = (double)letters / real;
        if (mean < _o.MinMeanWordLength) return Verdict.Remove("gopher_below_avg_word_length", $"mean word length {mean:F2}");
        if (mean > _o.MaxMeanWordLength) return Verdict.Remove("gopher_above_avg_word_length", $"mean word length {mean:F2}");
        int hashes = 0, ellipses = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '#') hashes++;
            else if (c == '…') ellipses++;
            else if (c == '.' && i + 2 < text.Length && text[i + 1] == '.' && text[i + 2] == '.') { ellipses++; i += 2; }
        }
        if (hashes > _o.MaxSymbolWordRatio * words.Count) return Verdict.Remove("gopher_too_many_hashes", $"{hashes} '#' for {words.Count} words");
        if (ellipses > _o.MaxSymbolWordRatio * words.Count) return Verdict.Remove("gopher_too_many_ellipsis", $"{ellipses} ellipses for {words.Count} words");
        int lines = 0, bullet = 0, endEllipsis = 0;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan(range).Trim();
            if (line.Length == 0) continue;
            lines++;
            if (line.IndexOfAny(Bullets) == 0) bullet++;
            if (line.EndsWith("...") || line.EndsWith("…")) endEllipsis++;
        }
        if (lines > 0 && bullet > _o.MaxBulletLines * lines) return Verdict.Remove("gopher_too_many_bullets", $"{bullet} of {lines} lines start with a bullet");
        if (lines > 0 && endEllipsis > _o.MaxEllipsisLines * lines) return Verdict.Remove("gopher_too_many_end_ellipsis", $"{endEllipsis} of {lines} lines end with an ellipsis");
        if (alpha < _o.MinAlphaWords * real) return Verdict.Remove("gopher_below_alpha_threshold", $"{alpha} of {real} words hold a letter");
        if (stop < _o.MinStopWords) return Verdict.Remove("gopher_enough_stop_words", $"{stop} stop words < {_o.MinStopWords}");
        return Verdict.Keep;
    }
}

/// <summary>C4 rules (Raffel et al. 2020).</summary>
public sealed record C4Options
{
    /// <summary>Drop lines that do not end in terminal punctuation.</summary>
    public bool TerminalPunctuation { get; init; } = true;
    /// <summary>Drop lines with fewer words.</summary>
    public int MinWordsPerLine { get; init; } = 3;
    /// <summary>Drop lines holding a longer word.</summary>
    public int MaxWordLength { get; init; } = 1000;
    /// <summary>Remove documents with fewer sentences after line filtering.</summary>
    public int MinSentences { get; init; } = 5;
    /// <summary>Remove documents containing "lorem ipsum".</summary>
    public bool LoremIpsum { get; init; } = true;
    /// <summary>Drop lines mentioning "javascript".</summary>
    public bool Javascript { get; init; } = true;
    /// <summary>Remove documents with a curly brace (code).</summary>
    public bool CurlyBraces { get; init; } = true;
    /// <summary>Drop lines with cookie/terms/privacy boilerplate.</summary>
    public bool Policy { get; init; } = true;
}

/// <summary>C4 filter: drops bad lines (rewriting the text), then removes documents failing the document rules.</summary>
public sealed class C4Filter(C4Options? options = null) : IDocumentStage
{
    private static readonly string[] PolicyPhrases = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"];
    private readonly C4Options _o = options ?? new C4Options();

    /// <inheritdoc/>
    public string Name => "c4_quality";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        string text = document.Text;
        if (_o.LoremIpsum && text.Contains("lorem ipsum", StringComparison.OrdinalIgnoreCase)) return Verdict.Remove("c4_lorem_ipsum");
        if (_o.CurlyBraces && text.AsSpan().IndexOfAny('{', '}') >= 0) return Verdict.Remove("c4_curly_bracket");
        var kept = new StringBuilder(text.Length);
        int sentences = 0, dropped = 0;
        var words = Words.Scratch;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            string line = text[range].Trim();
            if (line.Length == 0) continue;
            Words.Split(line, words);
            bool keep = words.Count >= _o.MinWordsPerLine;
            if (keep && _o.TerminalPunctuation) keep = EndsSentence(line);
            if (keep) foreach (var w in words) if (w.End.Value - w.Start.Value > _o.MaxWordLength) { keep = false; break; }
            if (keep && _o.Javascript && line.Contains("javascript", StringComparison.OrdinalIgnoreCase)) keep = false;
            if (keep && _o.Policy) foreach (var p in PolicyPhrases) if (line.Contains(p, StringComparison.OrdinalIgnoreCase)) { keep = false; break; }
            if (!keep) { dropped++; continue; }
            sentences += CountSentences(line);
            if (kept.Length > 0) kept.Append('\n');
            kept.Append(line);
        }
        if (kept.Length == 0) return Verdict.Remove("c4_no_lines_left", $"{dropped} lines dropped");
        if (sentences < _o.MinSentences) return Verdict.Remove("c4_too_few_sentences", $"{sentences} sentences < {_o.MinSentences}");
        if (dropped > 0) document.Text = kept.ToString();
        return Verdict.Keep;
    }

    private static bool EndsSentence(string line)
    {
        char c = line[^1];
        return c is '.' or '?' or '!' or '"' or '\'' or '…' or '”' or '’' or '»';
    }

    // Sentence ends: terminal punctuation followed by space or the end of the line.
    private static int CountSentences(string line)
    {
        int n = 0;
        for (int i = 0; i < line.Length; i++)
            if (line[i] is '.' or '?' or '!' or '…' && (i + 1 == line.Length || char.IsWhiteSpace(line[i + 1]) || line[i + 1] is '"' or '\'' or '”'))
            {
                n++;
                while (i + 1 < line.Length && line[i + 1] is '.' or '?' or '!') i++;
            }
        return Math.Max(n, 1);
    }
}

/// <summary>Gopher repetition thresholds (Rae et al. 2021, table A1).</summary>
public sealed record RepetitionOptions
{
    public double MaxDuplicateLineFraction { get; init; } = 0.3;
    public double MaxDuplicateParagraphFraction { get; init; } = 0.3;
    public double MaxDuplicateLineCharFraction { get; init; } = 0.2;
    public double MaxDuplicateParagraphCharFraction { get; init; } = 0.2;
    /// <summary>(n, most character share of the most frequent n-gram).</summary>
    public IReadOnlyList<double> TopNGramFractions { get; init; } = [0.20, 0.18, 0.16];           // n = 2, 3, 4
    /// <summary>(n, most character share of repeated n-grams).</summary>
    public IReadOnlyList<double> DuplicateNGramFractions { get; init; } = [0.15, 0.14, 0.13, 0.12, 0.11, 0.10]; // n = 5..10
}

/// <summary>Gopher repetition filter.</summary>
public sealed class RepetitionFilter(RepetitionOptions? options = null) : IDocumentStage
{
    private readonly RepetitionOptions _o = options ?? new RepetitionOptions();
    [ThreadStatic] private static Dictionary<ulong, int>? t_counts;
    [ThreadStatic] private static ulong[]? t_hashes;

    /// <inheritdoc/>
    public string Name => "gopher_repetition";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        string text = document.Text;
        if (text.Length == 0) return Verdict.Keep;
        var counts = t_counts ??= new Dictionary<ulong, int>(1024);
        // Paragraphs (blank-line separated) and lines.
        foreach (var (sep, maxFrac, maxChars, reason) in new[]
        {
            ("\n\n", _o.MaxDuplicateParagraphFraction, _o.MaxDuplicateParagraphCharFraction, "paragraph"),
            ("\n", _o.MaxDuplicateLineFraction, _o.MaxDuplicateLineCharFraction, "line"),
        })
        {
            counts.Clear();
            int total = 0, dups = 0;
            long dupChars = 0;
            foreach (var range in text.AsSpan().Split(sep))
            {
                var part = text.AsSpan(range).Trim();
                if (part.Length == 0) continue;
                total++;
                ulong h = Hash(part);
                if (counts.TryGetValue(h, out int c)) { dups++; dupChars += part.Length; counts[h] = c + 1; }
                else counts[h] = 1;
            }
            if (total > 0 && dups > maxFrac * total) return Verdict.Remove($"dup_{reason}_frac", $"{dups} of {total} {reason}s repeat");
            if (dupChars > maxChars * text.Length) return Verdict.Remove($"dup_{reason}_char_frac", $"{dupChars} of {text.Length} characters in repeated {reason}s");
        }
        var words = Words.Scratch;
        Words.Split(text, words);
        int n = words.Count;
        if (n < 2) return Verdict.Keep;
        var hashes = t_hashes is { } th && th.Length >= n ? th : t_hashes = new ulong[Math.Max(n, 1024) * 2];
        long wordChars = 0;
        for (int i = 0; i < n; i++)
        {
            var w = text.AsSpan(words[i]);
            hashes[i] = Hash(w);
            wordChars += w.Length;
        }
        // Most frequent n-gram, n = 2..4: its character length × count over all word characters.
        for (int k = 0; k < _o.TopNGramFractions.Count; k++)
        {
            int g = k + 2;
            if (n < g) break;
            counts.Clear();
            int bestCount = 0, bestAt = 0;
            for (int i = 0; i + g <= n; i++)
            {
                ulong h = Combine(hashes, i, g);
                int c = counts.TryGetValue(h, out int prev) ? prev + 1 : 1;
                counts[h] = c;
                if (c > bestCount) { bestCount = c; bestAt = i; }
            }
            if (bestCount < 2) continue;
            long chars = 0;
            for (int j = bestAt; j < bestAt + g; j++) chars += words[j].End.Value - words[j].Start.Value;
            if (chars * bestCount > _o.TopNGramFractions[k] * wordChars)
                return Verdict.Remove($"top_{g}_gram", $"the most frequent {g}-gram covers {(double)chars * bestCount / wordChars:P0} of the characters");
        }
        // Repeated n-grams, n = 5..10: characters of every n-gram occurrence after its first, not overlapping.
        for (int k = 0; k < _o.DuplicateNGramFractions.Count; k++)
        {
            int g = k + 5;
            if (n < g) break;
            counts.Clear();
            long dupChars = 0;
            int covered = -1;   // words up to this index already counted
            for (int i = 0; i + g <= n; i++)
            {
                ulong h = Combine(hashes, i, g);
                if (counts.TryAdd(h, 1)) continue;
                for (int j = Math.Max(i, covered + 1); j < i + g; j++) dupChars += words[j].End.Value - words[j].Start.Value;
                covered = i + g - 1;
            }
            if (dupChars > _o.DuplicateNGramFractions[k] * wordChars)
                return Verdict.Remove($"duplicated_{g}_n_grams", $"repeated {g}-grams cover {(double)dupChars / wordChars:P0} of the characters");
        }
        return Verdict.Keep;
    }

    // FNV-1a over UTF-16 units, then a final avalanche (SplitMix64's mixer).
    internal static ulong Hash(ReadOnlySpan<char> s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) h = (h ^ c) * 1099511628211UL;
        return Mix(h);
    }

    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Combine(ulong[] hashes, int start, int count)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        for (int i = start; i < start + count; i++) h = Mix(h ^ hashes[i]) + (ulong)i - (ulong)start;
        return h;
    }
}
