// Heuristic quality filters with the thresholds of their papers (as datatrove ships them):
//  - Gopher quality rules, Rae et al. 2021 ("Scaling Language Models: Methods, Analysis & Insights
//    from Training Gopher"), appendix A.1.1;
//  - C4 rules, Raffel et al. 2020 (T5), section 2.2, applied per line then per document;
//  - Gopher repetition rules, Rae et al. 2021, table A1: duplicate line/paragraph fractions, the
//    character share of the most frequent 2–4-gram and of repeated 5–10-grams.
using System.Buffers;
using Loom.Core.Validation;
using Loom.Data.Documents;
using Loom.Data.Text;

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

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range (<paramref name="prefix"/> + its snake_case name).</summary>
    public void Validate(string prefix = "gopher_quality.")
    {
        Setting.AtLeast(prefix + "min_words", MinWords, 0);
        Setting.AtLeast(prefix + "max_words", MaxWords, MinWords);
        Setting.NonNegative(prefix + "min_mean_word_length", MinMeanWordLength);
        if (!(MaxMeanWordLength >= MinMeanWordLength && double.IsFinite(MaxMeanWordLength)))
            throw Setting.Error(prefix + "max_mean_word_length", MaxMeanWordLength, $"a finite number of at least {prefix}min_mean_word_length ({MinMeanWordLength})");
        Setting.NonNegative(prefix + "max_symbol_word_ratio", MaxSymbolWordRatio);
        StageSettings.Fraction(prefix + "max_bullet_lines", MaxBulletLines);
        StageSettings.Fraction(prefix + "max_ellipsis_lines", MaxEllipsisLines);
        StageSettings.Fraction(prefix + "min_alpha_words", MinAlphaWords);
        Setting.AtLeast(prefix + "min_stop_words", MinStopWords, 0);
    }
}

/// <summary>Gopher quality filter.</summary>
public sealed class GopherQualityFilter(GopherQualityOptions? options = null) : IDocumentStage
{
    private static readonly ulong[] StopWords = [.. new[] { "the", "be", "to", "of", "and", "that", "have", "with" }.Select(TextAnalysis.CleanHash)];
    private static readonly SearchValues<char> Bullets = SearchValues.Create("•●○■□▪▫–-*‣⁃◦");
    private static readonly SearchValues<char> HashOrEllipsis = SearchValues.Create("#….");
    private readonly GopherQualityOptions _o = options ?? new GopherQualityOptions();

    /// <inheritdoc/>
    public string Name => "gopher_quality";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        string text = document.Text;
        var analysis = TextAnalysis.Of(text);
        int real = 0, alpha = 0, stop = 0;
        long letters = 0;
        foreach (ref readonly var w in analysis.Words)
        {
            if (!w.HasLetterOrDigit) continue;
            real++;
            letters += w.Length;
            if (w.HasLetter) alpha++;
            if (stop < _o.MinStopWords && w.Length <= 5 && StopWords.AsSpan().Contains(w.Clean)) stop++;
        }
        int words = analysis.Count;
        if (real < _o.MinWords) return Verdict.Remove("gopher_short_doc", $"{real} words < {_o.MinWords}");
        if (real > _o.MaxWords) return Verdict.Remove("gopher_long_doc", $"{real} words > {_o.MaxWords}");
        double mean = (double)letters / real;
        if (mean < _o.MinMeanWordLength) return Verdict.Remove("gopher_below_avg_word_length", $"mean word length {mean:F2}");
        if (mean > _o.MaxMeanWordLength) return Verdict.Remove("gopher_above_avg_word_length", $"mean word length {mean:F2}");
        int hashes = 0, ellipses = 0;
        var rest = text.AsSpan();
        for (int i; (i = rest.IndexOfAny(HashOrEllipsis)) >= 0; rest = rest[(i + 1)..])
        {
            char c = rest[i];
            if (c == '#') hashes++;
            else if (c == '…') ellipses++;
            else if (i + 2 < rest.Length && rest[i + 1] == '.' && rest[i + 2] == '.') { ellipses++; i += 2; }
        }
        if (hashes > _o.MaxSymbolWordRatio * words) return Verdict.Remove("gopher_too_many_hashes", $"{hashes} '#' for {words} words");
        if (ellipses > _o.MaxSymbolWordRatio * words) return Verdict.Remove("gopher_too_many_ellipsis", $"{ellipses} ellipses for {words} words");
        int lines = 0, bullet = 0, endEllipsis = 0;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan(range).Trim();
            if (line.Length == 0) continue;
            lines++;
            if (Bullets.Contains(line[0])) bullet++;
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

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range (<paramref name="prefix"/> + its snake_case name).</summary>
    public void Validate(string prefix = "c4_quality.")
    {
        Setting.AtLeast(prefix + "min_words_per_line", MinWordsPerLine, 0);
        Setting.AtLeast(prefix + "max_word_length", MaxWordLength, 1);
        Setting.AtLeast(prefix + "min_sentences", MinSentences, 0);
    }
}

/// <summary>C4 filter: drops bad lines (rewriting the text), then removes documents failing the document rules.</summary>
public sealed class C4Filter : IDocumentStage
{
    private static readonly string[] PolicyPhrases = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"];
    private static readonly SearchValues<char> SentenceEnds = SearchValues.Create(".?!…");
    private readonly C4Options _o;
    private readonly SearchValues<string>? _dropPhrases;     // "javascript" and the policy phrases, case-insensitive, in one search
    [ThreadStatic] private static List<Range>? t_kept;

    /// <param name="options">Settings.</param>
    public C4Filter(C4Options? options = null)
    {
        _o = options ?? new C4Options();
        string[] phrases = [.. _o.Javascript ? ["javascript"] : Array.Empty<string>(), .. _o.Policy ? PolicyPhrases : []];
        if (phrases.Length > 0) _dropPhrases = SearchValues.Create(phrases, StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc/>
    public string Name => "c4_quality";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        string text = document.Text;
        if (_o.LoremIpsum && text.Contains("lorem ipsum", StringComparison.OrdinalIgnoreCase)) return Verdict.Remove("c4_lorem_ipsum");
        if (_o.CurlyBraces && text.AsSpan().IndexOfAny('{', '}') >= 0) return Verdict.Remove("c4_curly_bracket");
        var kept = t_kept ??= [];
        kept.Clear();
        int sentences = 0, dropped = 0, keptChars = 0;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var (offset, length) = range.GetOffsetAndLength(text.Length);
            var line = text.AsSpan(offset, length);
            int lead = line.Length - line.TrimStart().Length;
            line = line.Trim();
            if (line.Length == 0) continue;
            bool keep = EndsSentence(line) || !_o.TerminalPunctuation;
            if (keep)
            {
                var (words, longest) = CountWords(line);
                keep = words >= _o.MinWordsPerLine && longest <= _o.MaxWordLength;
            }
            if (keep && _dropPhrases != null && line.IndexOfAny(_dropPhrases) >= 0) keep = false;
            if (!keep) { dropped++; continue; }
            sentences += CountSentences(line);
            kept.Add(new Range(offset + lead, offset + lead + line.Length));
            keptChars += line.Length;
        }
        if (kept.Count == 0) return Verdict.Remove("c4_no_lines_left", $"{dropped} lines dropped");
        if (sentences < _o.MinSentences) return Verdict.Remove("c4_too_few_sentences", $"{sentences} sentences < {_o.MinSentences}");
        if (dropped > 0)
            document.Text = string.Create(keptChars + kept.Count - 1, (text, kept), static (dst, state) =>
            {
                int at = 0;
                foreach (var r in state.kept)
                {
                    if (at > 0) dst[at++] = '\n';
                    var src = state.text.AsSpan(r);
                    src.CopyTo(dst[at..]);
                    at += src.Length;
                }
            });
        return Verdict.Keep;
    }

    private static bool EndsSentence(ReadOnlySpan<char> line)
    {
        char c = line[^1];
        return c is '.' or '?' or '!' or '"' or '\'' or '…' or '”' or '’' or '»';
    }

    // Whitespace-separated words and the longest one's length.
    private static (int Words, int Longest) CountWords(ReadOnlySpan<char> line)
    {
        int words = 0, longest = 0, start = -1;
        for (int i = 0; i <= line.Length; i++)
        {
            bool space = i == line.Length || char.IsWhiteSpace(line[i]);
            if (!space) { if (start < 0) start = i; continue; }
            if (start < 0) continue;
            words++;
            longest = Math.Max(longest, i - start);
            start = -1;
        }
        return (words, longest);
    }

    // Sentence ends: terminal punctuation followed by space or the end of the line.
    private static int CountSentences(ReadOnlySpan<char> line)
    {
        int n = 0;
        for (int i = line.IndexOfAny(SentenceEnds); i >= 0 && i < line.Length; )
        {
            if (i + 1 == line.Length || char.IsWhiteSpace(line[i + 1]) || line[i + 1] is '"' or '\'' or '”')
            {
                n++;
                while (i + 1 < line.Length && line[i + 1] is '.' or '?' or '!') i++;
            }
            int next = line[(i + 1)..].IndexOfAny(SentenceEnds);
            i = next < 0 ? -1 : i + 1 + next;
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

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first setting out of range (<paramref name="prefix"/> + its
    /// snake_case name). The n-gram lists are positional (n = 2, 3, 4 and n = 5 … 10), so a shorter list would
    /// silently switch the rules for the missing n off: each must hold exactly one fraction per n.
    /// </summary>
    public void Validate(string prefix = "gopher_repetition.")
    {
        StageSettings.Fraction(prefix + "max_duplicate_line_fraction", MaxDuplicateLineFraction);
        StageSettings.Fraction(prefix + "max_duplicate_paragraph_fraction", MaxDuplicateParagraphFraction);
        StageSettings.Fraction(prefix + "max_duplicate_line_char_fraction", MaxDuplicateLineCharFraction);
        StageSettings.Fraction(prefix + "max_duplicate_paragraph_char_fraction", MaxDuplicateParagraphCharFraction);
        StageSettings.Fractions(prefix + "top_n_gram_fractions", TopNGramFractions, 3, "n = 2, 3, 4");
        StageSettings.Fractions(prefix + "duplicate_n_gram_fractions", DuplicateNGramFractions, 6, "n = 5 … 10");
    }
}

/// <summary>Gopher repetition filter.</summary>
public sealed class RepetitionFilter(RepetitionOptions? options = null) : IDocumentStage
{
    private readonly RepetitionOptions _o = options ?? new RepetitionOptions();
    [ThreadStatic] private static CountTable? t_counts;
    [ThreadStatic] private static ulong[]? t_grams;

    /// <inheritdoc/>
    public string Name => "gopher_repetition";

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        string text = document.Text;
        if (text.Length == 0) return Verdict.Keep;
        var counts = t_counts ??= new CountTable();
        var verdict = RepeatedParts(text, "\n\n", "paragraph", _o.MaxDuplicateParagraphFraction, _o.MaxDuplicateParagraphCharFraction, counts);
        if (verdict.Removed) return verdict;
        verdict = RepeatedParts(text, "\n", "line", _o.MaxDuplicateLineFraction, _o.MaxDuplicateLineCharFraction, counts);
        if (verdict.Removed) return verdict;

        var analysis = TextAnalysis.Of(text);
        var words = analysis.Words;
        int n = words.Length;
        if (n < 2) return Verdict.Keep;
        // grams[i] is the hash of the k-gram starting at word i, extended in place from the (k−1)-gram.
        var grams = t_grams is { } g0 && g0.Length >= n ? g0 : t_grams = new ulong[Math.Max(2 * n, 1024)];
        long wordChars = 0;
        for (int i = 0; i < n; i++)
        {
            grams[i] = Hashing.Mix(0x9E3779B97F4A7C15UL ^ words[i].Raw);   // not symmetric: (a, b) and (b, a) differ
            wordChars += words[i].Length;
        }
        int order = 1;
        void Extend(Span<ulong> grams, ReadOnlySpan<WordInfo> words)
        {
            order++;
            for (int i = 0; i + order <= words.Length; i++) grams[i] = Hashing.Mix(grams[i] ^ words[i + order - 1].Raw) + (ulong)order;
        }
        // Most frequent n-gram, n = 2..4: its character length × count over all word characters. An
        // n-gram occurs at most as often as its (n−1)-gram prefix, so once nothing repeats, nothing longer does.
        bool repeats = true;
        for (int k = 0; k < _o.TopNGramFractions.Count && repeats; k++)
        {
            Extend(grams, words);
            if (n < order) return Verdict.Keep;
            int count = n - order + 1, bestCount = 0, bestAt = 0;
            counts.Reset(count);
            for (int i = 0; i < count; i++)
            {
                int c = counts.Add(grams[i]);
                if (c > bestCount) { bestCount = c; bestAt = i; }
            }
            repeats = bestCount >= 2;
            if (!repeats) break;
            long chars = 0;
            for (int j = bestAt; j < bestAt + order; j++) chars += words[j].Length;
            if (chars * bestCount > _o.TopNGramFractions[k] * wordChars)
                return Verdict.Remove($"top_{order}_gram", $"the most frequent {order}-gram covers {(double)chars * bestCount / wordChars:P0} of the characters");
        }
        if (!repeats) return Verdict.Keep;
        while (order < 4) Extend(grams, words);
        // Repeated n-grams, n = 5..10: characters of every n-gram occurrence after its first, not overlapping.
        for (int k = 0; k < _o.DuplicateNGramFractions.Count; k++)
        {
            Extend(grams, words);
            if (n < order) break;
            int count = n - order + 1;
            counts.Reset(count);
            long dupChars = 0;
            int covered = -1;   // words up to this index already counted
            for (int i = 0; i < count; i++)
            {
                if (counts.Add(grams[i]) == 1) continue;
                for (int j = Math.Max(i, covered + 1); j < i + order; j++) dupChars += words[j].Length;
                covered = i + order - 1;
            }
            if (dupChars > _o.DuplicateNGramFractions[k] * wordChars)
                return Verdict.Remove($"duplicated_{order}_n_grams", $"repeated {order}-grams cover {(double)dupChars / wordChars:P0} of the characters");
            if (dupChars == 0) break;
        }
        return Verdict.Keep;
    }

    // Duplicate paragraphs ("\n\n") or lines ("\n"): their share of all, and the characters they hold.
    private static Verdict RepeatedParts(string text, string separator, string what, double maxFraction, double maxChars, CountTable counts)
    {
        int parts = text.AsSpan().Count(separator) + 1;
        if (parts == 1) return Verdict.Keep;     // one part cannot repeat
        counts.Reset(parts);
        int total = 0, dups = 0;
        long dupChars = 0;
        foreach (var range in text.AsSpan().Split(separator))
        {
            var part = text.AsSpan(range).Trim();
            if (part.Length == 0) continue;
            total++;
            if (counts.Add(Hashing.Hash(part)) > 1) { dups++; dupChars += part.Length; }
        }
        if (total > 0 && dups > maxFraction * total) return Verdict.Remove($"dup_{what}_frac", $"{dups} of {total} {what}s repeat");
        if (dupChars > maxChars * text.Length) return Verdict.Remove($"dup_{what}_char_frac", $"{dupChars} of {text.Length} characters in repeated {what}s");
        return Verdict.Keep;
    }
}
