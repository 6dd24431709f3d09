// The vocabulary behind the out-of-vocabulary rate. Either given (a file with one word per line — BERT's vocab.txt
// works, its "##" pieces and [SPECIAL] tokens are skipped — or a tokenizer.json whose model.vocab holds words), or
// learned from the reference: the words seen at least twice in every other reference document (even rows). The
// reference's own OOV feature is then measured on the odd rows only, so the reference is not scored on text its
// vocabulary was built from (that would make the reference look cleaner than any new data and flag drift).
using System.Text.Json;

namespace Loom.Monitoring.Text;

/// <summary>A set of known words.</summary>
public sealed class Vocabulary
{
    private readonly HashSet<string> _words;

    /// <summary>Where the words came from, for the report.</summary>
    public string Origin { get; }

    /// <summary>True when it was learned from the even rows of the reference (score the reference's odd rows only).</summary>
    public bool LearnedFromReference { get; }

    /// <summary>Known words.</summary>
    public int Count => _words.Count;

    private Vocabulary(HashSet<string> words, string origin, bool learned)
    {
        _words = words;
        Origin = origin;
        LearnedFromReference = learned;
    }

    /// <summary>True when <paramref name="word"/> (lower case) is known.</summary>
    public bool Contains(string word) => _words.Contains(word);

    /// <summary>The share of <paramref name="text"/>'s words that are unknown (0 for a text without words).</summary>
    public double OovRate(string text)
    {
        var words = Words.Split(text);
        if (words.Count == 0) return 0;
        int unknown = 0;
        foreach (var w in words) if (!_words.Contains(w)) unknown++;
        return (double)unknown / words.Count;
    }

    /// <summary>The words seen at least <paramref name="minCount"/> times in the even-indexed texts.</summary>
    public static Vocabulary FromReference(IReadOnlyList<string> texts, int minCount = 2)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < texts.Count; i += 2)
            foreach (var w in Words.Split(texts[i])) counts[w] = counts.GetValueOrDefault(w) + 1;
        var set = counts.Where(kv => kv.Value >= minCount).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        return new Vocabulary(set, $"reference (words seen ≥ {minCount}× in its even rows; OOV of the reference measured on its odd rows)", true);
    }

    /// <summary>Reads a word list, a vocab.txt or a tokenizer.json; <paramref name="option"/> names the CLI option in errors.</summary>
    public static Vocabulary Load(string path, string option = "--vocab")
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{option} {path}: no such file; give a word list (one per line), a vocab.txt or a tokenizer.json.");
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (!doc.RootElement.TryGetProperty("model", out var model) || !model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{option} {path}: a tokenizer.json needs model.vocab as an object of token → id.");
            foreach (var p in vocab.EnumerateObject()) Add(set, p.Name.TrimStart('Ġ', '▁'));
        }
        else foreach (var line in File.ReadLines(path)) Add(set, line.Trim());
        if (set.Count == 0) throw new InvalidDataException($"{option} {path}: no words in it.");
        return new Vocabulary(set, path, false);
    }

    private static void Add(HashSet<string> set, string token)
    {
        if (token.Length == 0 || token.StartsWith("##", StringComparison.Ordinal) || (token.StartsWith('[') && token.EndsWith(']')) || (token.StartsWith('<') && token.EndsWith('>'))) return;
        foreach (var w in Words.Split(token)) set.Add(w);
    }
}
