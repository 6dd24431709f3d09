// Exact match and token F1 between a predicted and a reference answer, with the official SQuAD
// normalisation (evaluate-v2.0.py's normalize_answer: lower-case, drop ASCII punctuation, drop the
// articles a/an/the, collapse whitespace) and F1 over the bag of normalised tokens (common tokens
// counted with multiplicity; two empty answers score 1, one empty 0). Max over several references.
using System.Text;
using System.Text.RegularExpressions;

namespace Loom.Evaluation.Harness;

/// <summary>SQuAD-style answer comparison.</summary>
public static partial class AnswerScoring
{
    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();

    /// <summary>evaluate-v2.0.py's normalize_answer.</summary>
    public static string Normalize(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s.ToLowerInvariant())
            if (!IsPunctuation(c)) sb.Append(c);
        string noArticles = Articles().Replace(sb.ToString(), " ");
        return string.Join(' ', noArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    // Python's string.punctuation: the 32 ASCII punctuation characters.
    private static bool IsPunctuation(char c) => c < 128 && "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".Contains(c);

    /// <summary>1 when the normalised answers are equal.</summary>
    public static double ExactMatch(string prediction, string reference) => Normalize(prediction) == Normalize(reference) ? 1 : 0;

    /// <summary>Token F1 of the normalised answers.</summary>
    public static double F1(string prediction, string reference)
    {
        var p = Normalize(prediction).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var r = Normalize(reference).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (p.Length == 0 || r.Length == 0) return p.Length == r.Length ? 1 : 0;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in r) counts[t] = counts.GetValueOrDefault(t) + 1;
        int common = 0;
        foreach (var t in p)
            if (counts.TryGetValue(t, out int n) && n > 0) { common++; counts[t] = n - 1; }
        if (common == 0) return 0;
        double precision = (double)common / p.Length, recall = (double)common / r.Length;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>The best score over <paramref name="references"/> (SQuAD's metric_max_over_ground_truths); an empty list scores against "".</summary>
    public static double Best(Func<string, string, double> metric, string prediction, IReadOnlyList<string> references) =>
        references.Count == 0 ? metric(prediction, "") : references.Max(r => metric(prediction, r));
}
