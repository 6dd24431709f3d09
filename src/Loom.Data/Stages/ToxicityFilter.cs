// Word-list toxicity scoring with the English LDNOOBW list (CC BY 4.0, embedded; see
// Resources/README.md): whole words and multi-word phrases matched case-insensitively on word
// boundaries. score = matched words / words. A document is removed when it has at least MinMatches
// matches and its score reaches Threshold; one stray word in a long review is not enough. Word
// lists over-match ("Scunthorpe" cases, medical terms), so the audit keeps the matched terms.
using System.Reflection;
using Loom.Core.Validation;
using Loom.Data.Documents;
using Loom.Data.Text;

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

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range (<paramref name="prefix"/> + its snake_case name).</summary>
    public void Validate(string prefix = "toxicity.")
    {
        StageSettings.Fraction(prefix + "threshold", Threshold);
        // A removal names the matched terms: with no match required, a document with none would be removed for nothing.
        Setting.AtLeast(prefix + "min_matches", MinMatches, 1);
        if (WordList is { Length: 0 }) throw Setting.Error(prefix + "word_list", WordList, "the path of a word list file (one entry per line), or absent for the embedded English list");
    }
}

/// <summary>The toxicity stage.</summary>
public sealed class ToxicityFilter : IDocumentStage
{
    private readonly ToxicityOptions _o;
    // Keyed by TextAnalysis's clean word hash; phrases by the hash of their words' clean hashes.
    private readonly Dictionary<ulong, string> _single = new();
    private readonly Dictionary<ulong, string> _phrases = new();
    private readonly HashSet<ulong> _phraseStarts = new();
    private readonly int _longestPhrase;
    // One bit per 16-bit prefix of every single-word and phrase-start hash: most words of a text are on
    // no list, and one bit test turns them away before any dictionary lookup.
    private readonly ulong[] _maybe = new ulong[(1 << 16) / 64];

    private static int Prefix(ulong hash) => (int)(hash >> 48);

    private bool Maybe(ulong hash) => (_maybe[Prefix(hash) >> 6] & (1UL << (Prefix(hash) & 63))) != 0;

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
            // A text word is matched after its leading and trailing punctuation is cut, so an entry that
            // has some (or no letter at all, such as an emoji) could never match; it is left out.
            if (words.Length == 0 || words.Any(w => Clean(w) != w)) continue;
            var hashes = words.Select(TextAnalysis.CleanHash).ToArray();
            if (words.Length == 1) _single.TryAdd(hashes[0], words[0]);
            else
            {
                _phrases.TryAdd(PhraseKey(hashes), string.Join(' ', words));
                _phraseStarts.Add(hashes[0]);
                _longestPhrase = Math.Max(_longestPhrase, words.Length);
            }
        }
        foreach (ulong h in _single.Keys.Concat(_phraseStarts)) _maybe[Prefix(h) >> 6] |= 1UL << (Prefix(h) & 63);
        if (_single.Count + _phrases.Count == 0) throw new InvalidDataException($"The toxicity word list {_o.WordList ?? "ldnoobw_en.txt"} is empty.");
    }

    private static string Clean(string word)
    {
        int a = 0, b = word.Length;
        while (a < b && !char.IsLetterOrDigit(word[a])) a++;
        while (b > a && !char.IsLetterOrDigit(word[b - 1])) b--;
        return word[a..b];
    }

    private static ulong PhraseKey(ReadOnlySpan<ulong> words)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (ulong w in words) h = Hashing.Mix(h ^ w);
        return h;
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
        var words = TextAnalysis.Of(text).Words;
        int matches = 0;
        List<string>? terms = null;
        Span<ulong> phrase = stackalloc ulong[Math.Max(_longestPhrase, 1)];
        for (int i = 0; i < words.Length; i++)
        {
            ulong clean = words[i].Clean;
            if (clean == 0 || !Maybe(clean)) continue;
            if (_single.TryGetValue(clean, out var term)) { matches++; (terms ??= []).Add(term); continue; }
            if (_longestPhrase < 2 || !_phraseStarts.Contains(clean)) continue;
            for (int len = Math.Min(_longestPhrase, words.Length - i); len >= 2; len--)
            {
                for (int k = 0; k < len; k++) phrase[k] = words[i + k].Clean;
                if (_phrases.TryGetValue(PhraseKey(phrase[..len]), out var p)) { matches += len; (terms ??= []).Add(p); i += len - 1; break; }
            }
        }
        return (matches, words.Length, terms);
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
