// EDA (Wei & Zou 2019, "EDA: Easy Data Augmentation Techniques for Boosting Performance on Text
// Classification Tasks", §2): on a sentence of l words, with α the share changed (paper: 0.1),
// n = max(1, ⌊α·l⌋):
//   SR  synonym replacement: n non-stop words that have WordNet synonyms, each replaced by a random synonym
//   RI  random insertion:    n times, a random synonym of a random non-stop word inserted at a random position
//   RS  random swap:         n times, two random words swapped
//   RD  random deletion:     each word deleted with probability α (one word always kept)
// Words are whitespace-separated; synonyms are looked up on the word without surrounding punctuation,
// in lower case, and a capitalised word gets a capitalised synonym. The stop list is the one EDA's
// reference code (github.com/jasonwei20/eda_nlp) skips.
using System.Text;

namespace Loom.Training.Augmentation;

/// <summary>One augmentation of a text: the new text and what was done.</summary>
public sealed record AugmentedText(string Text, string Operation, IReadOnlyList<string> Changes);

/// <summary>EDA's four operations and WordNet synonym replacement.</summary>
public sealed class EasyDataAugmentation
{
    internal static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "i","me","my","myself","we","our","ours","ourselves","you","your","yours","yourself","yourselves","he","him","his","himself","she","her","hers",
        "herself","it","its","itself","they","them","their","theirs","themselves","what","which","who","whom","this","that","these","those","am","is","are",
        "was","were","be","been","being","have","has","had","having","do","does","did","doing","a","an","the","and","but","if","or","because","as","until",
        "while","of","at","by","for","with","about","against","between","into","through","during","before","after","above","below","to","from","up","down",
        "in","out","on","off","over","under","again","further","then","once","here","there","when","where","why","how","all","any","both","each","few","more",
        "most","other","some","such","no","nor","not","only","own","same","so","than","too","very","s","t","can","will","just","don","should","now","",
    };

    private readonly WordNet? _wordNet;

    public EasyDataAugmentation(WordNet? wordNet) => _wordNet = wordNet;

    /// <summary>Synonym replacement (SR) of n words; null when no word has a synonym.</summary>
    public AugmentedText? ReplaceSynonyms(string text, double alpha, Random rng)
    {
        var words = Split(text);
        int n = Count(words.Count, alpha);
        var order = Enumerable.Range(0, words.Count).Where(i => !StopWords.Contains(Core(words[i]))).OrderBy(_ => rng.Next()).ToList();
        var changes = new List<string>();
        foreach (int i in order)
        {
            if (changes.Count >= n) break;
            var syn = SynonymsOf(words[i]);
            if (syn.Count == 0) continue;
            string pick = syn[rng.Next(syn.Count)];
            changes.Add($"{Core(words[i])}→{pick}");
            words[i] = Replace(words[i], pick);
        }
        return changes.Count == 0 ? null : new AugmentedText(string.Join(' ', words), "synonym", changes);
    }

    /// <summary>Random insertion (RI); null when no word has a synonym.</summary>
    public AugmentedText? Insert(string text, double alpha, Random rng)
    {
        var words = Split(text);
        int n = Count(words.Count, alpha);
        var changes = new List<string>();
        var candidates = words.Where(w => !StopWords.Contains(Core(w))).ToList();
        for (int tries = 0; changes.Count < n && tries < 10 * n + 10 && candidates.Count > 0; tries++)
        {
            var syn = SynonymsOf(candidates[rng.Next(candidates.Count)]);
            if (syn.Count == 0) continue;
            string pick = syn[rng.Next(syn.Count)];
            int at = rng.Next(words.Count + 1);
            words.Insert(at, pick);
            changes.Add($"+{pick}@{at}");
        }
        return changes.Count == 0 ? null : new AugmentedText(string.Join(' ', words), "insert", changes);
    }

    /// <summary>Random swap (RS); null for fewer than two words.</summary>
    public static AugmentedText? Swap(string text, double alpha, Random rng)
    {
        var words = Split(text);
        if (words.Count < 2) return null;
        int n = Count(words.Count, alpha);
        var changes = new List<string>();
        for (int k = 0; k < n; k++)
        {
            int a = rng.Next(words.Count), b = rng.Next(words.Count - 1);
            if (b >= a) b++;
            (words[a], words[b]) = (words[b], words[a]);
            changes.Add($"{a}↔{b}");
        }
        return new AugmentedText(string.Join(' ', words), "swap", changes);
    }

    /// <summary>Random deletion (RD) with probability α per word; one word always survives.</summary>
    public static AugmentedText? Delete(string text, double alpha, Random rng)
    {
        var words = Split(text);
        if (words.Count < 2) return null;
        var kept = new List<string>();
        var changes = new List<string>();
        foreach (var w in words)
            if (rng.NextDouble() < alpha) changes.Add("-" + w); else kept.Add(w);
        if (kept.Count == 0) { var w = words[rng.Next(words.Count)]; kept.Add(w); changes.Remove("-" + w); }
        return changes.Count == 0 ? null : new AugmentedText(string.Join(' ', kept), "delete", changes);
    }

    /// <summary>One of the four EDA operations, chosen uniformly (the paper generates n_aug sentences split evenly across them).</summary>
    public AugmentedText? Any(string text, double alpha, Random rng) => rng.Next(4) switch
    {
        0 => ReplaceSynonyms(text, alpha, rng),
        1 => Insert(text, alpha, rng),
        2 => Swap(text, alpha, rng),
        _ => Delete(text, alpha, rng),
    };

    private IReadOnlyList<string> SynonymsOf(string word)
    {
        if (_wordNet is null) throw new InvalidOperationException("Synonym replacement and insertion need WordNet (--wordnet DIR).");
        string core = Core(word);
        return core.Length < 2 ? [] : _wordNet.Synonyms(core.ToLowerInvariant());
    }

    private static int Count(int words, double alpha) => Math.Max(1, (int)(alpha * words));

    private static List<string> Split(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();

    // The word without leading/trailing punctuation.
    private static string Core(string w)
    {
        int s = 0, e = w.Length;
        while (s < e && !char.IsLetterOrDigit(w[s])) s++;
        while (e > s && !char.IsLetterOrDigit(w[e - 1])) e--;
        return w[s..e];
    }

    // Replaces the core of `w` by `pick`, keeping its punctuation and initial capital.
    private static string Replace(string w, string pick)
    {
        string core = Core(w);
        int at = w.IndexOf(core, StringComparison.Ordinal);
        if (core.Length > 0 && char.IsUpper(core[0])) pick = char.ToUpperInvariant(pick[0]) + pick[1..];
        return new StringBuilder().Append(w, 0, at).Append(pick).Append(w, at + core.Length, w.Length - at - core.Length).ToString();
    }
}
