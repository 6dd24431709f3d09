// Word-list toxicity scoring with the English LDNOOBW list (CC BY 4.0, embedded; see
// Resources/README.md): whole words and multi-word phrases matched case-insensitively on word
// boundaries. score = matched words / words. A document is removed when it has at least MinMatches
// matches and its score reaches Threshold; one stray word in a long review is not enough. Word
// lists over-match ("Scunthorpe" cases, medical terms), so the audit keeps the matched terms.
using System.Reflection;
using Loom.Data.Documents;

namespace Loom.Data.Stages;

/// <summary>Toxicity filter settings.</summary>
public sealed record ToxicityOptions
{
    /// <summary>Least share of words on the list for removal.</summary>
    public double Threshold { get; init; } = 0.02;
    /// <summary>Least number of matches for removal.</summary>
    public int MinMatches { get; init; } = 2;
    /// <summary>A word list file (one entry per line) to use instead of the embedded English LDNOOBW list.</summary>
    public string? WordList { get; init; }
}

/// <summary>The toxicity stage.</summary>
public sealed class ToxicityFilter : IDocumentStage
{
    private readonly ToxicityOptions _o;
    private readonly HashSet<string> _single = new(StringComparer.Ordinal);
    private readonly HashSet<string> _phrases = new(StringComparer.Ordinal);
    private readonly HashSet<string> _phraseStarts = new(StringComparer.Ordinal);
    private readonly int _longestPhrase;

    /// <param name="options">Settings.</param>
    public ToxicityFilter(ToxicityOptions? options = null)
    {
        _o = options ?? new ToxicityOptions();
        IEnumerable<string> entries = _o.WordList != null
            ? File.ReadAllLines(_o.WordList)
            : ReadEmbedded("ldnoobw_en.txt");
        foreach (var raw in entries)
        {
            var words = raw.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            if (words.Length == 1) _single.Add(words[0]);
            else
            {
                _phrases.Add(string.Join(' ', words));
                _phraseStarts.Add(words[0]);
                _longestPhrase = Math.Max(_longestPhrase, words.Length);
            }
        }
        if (_single.Count + _phrases.Count == 0) throw new InvalidDataException($"The toxicity word list {_o.WordList ?? "ldnoobw_en.txt"} is empty.");
    }

    internal static IEnumerable<string> ReadEmbedded(string name)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(name) ?? throw new InvalidOperationException($"Resource {name} is missing from Loom.Data.");
        using var r = new StreamReader(s);
        return r.ReadToEnd().Split('\n');
    }

    /// <inheritdoc/>
    public string Name => "toxicity";

    /// <summary>(matches, words, the matched terms).</summary>
    public (int Matches, int Words, List<string>? Terms) Score(string text)
    {
        var ranges = Words.Scratch;
        Words.Split(text, ranges);
        var single = _single.GetAlternateLookup<ReadOnlySpan<char>>();
        var starts = _phraseStarts.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> buffer = stackalloc char[64];
        int matches = 0;
        List<string>? terms = null;
        for (int i = 0; i < ranges.Count; i++)
        {
            var w = text.AsSpan(ranges[i]);
            int a = 0, b = w.Length;
            while (a < b && !char.IsLetterOrDigit(w[a])) a++;
            while (b > a && !char.IsLetterOrDigit(w[b - 1])) b--;
            if (b == a || b - a > buffer.Length) continue;
            var lower = buffer[..(b - a)];
            w[a..b].ToLowerInvariant(lower);
            if (single.Contains(lower)) { matches++; (terms ??= []).Add(lower.ToString()); continue; }
            if (_longestPhrase < 2 || !starts.Contains(lower)) continue;
            for (int len = _longestPhrase; len >= 2; len--)
            {
                if (i + len > ranges.Count) continue;
                var parts = new string[len];
                for (int k = 0; k < len; k++) parts[k] = Words.Clean(text.AsSpan(ranges[i + k]));
                string phrase = string.Join(' ', parts);
                if (_phrases.Contains(phrase)) { matches += len; (terms ??= []).Add(phrase); i += len - 1; break; }
            }
        }
        return (matches, ranges.Count, terms);
    }

    /// <inheritdoc/>
    public Verdict Process(Document document)
    {
        var (matches, words, terms) = Score(document.Text);
        if (matches < _o.MinMatches || words == 0) return Verdict.Keep;
        double score = (double)matches / words;
        return score >= _o.Threshold
            ? Verdict.Remove("toxic_words", $"score {score:F3} ({matches} of {words} words: {string.Join(", ", terms!.Distinct().Take(5))})")
            : Verdict.Keep;
    }
}
