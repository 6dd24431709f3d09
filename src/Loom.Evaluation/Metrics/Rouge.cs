// ROUGE as Google's rouge-score package computes it (google-research/google-research, rouge/
// rouge_scorer.py and tokenize.py; Lin 2004, "ROUGE: A Package for Automatic Evaluation of
// Summaries"), equal to it on the vectors of its own test suite (tests: Fixtures/rouge_vectors.json).
// Tokens: lowercase, every character outside [a-z0-9] becomes a space, split on whitespace, and with
// the stemmer NLTK's Porter stem of each token longer than 3 characters. rougeN: clipped n-gram overlap
// over prediction (precision) and target (recall) n-grams. rougeL: longest common subsequence.
// rougeLsum: the texts split into sentences on "\n" (empty ones dropped), summary-level union LCS
// (ROUGE-1.5.5), each token counted at most as often as it occurs on both sides. Argument order is
// rouge-score's: Score(target, prediction). Several targets: the one with the best F-measure (score_multi).
using System.Text.RegularExpressions;

namespace Loom.Evaluation.Metrics;

/// <summary>rouge-score's ROUGE-N, ROUGE-L and ROUGE-Lsum.</summary>
public static class Rouge
{
    /// <summary>The ROUGE types the command line reports by default.</summary>
    public static readonly IReadOnlyList<string> DefaultTypes = ["rouge1", "rouge2", "rougeL", "rougeLsum"];

    private static readonly Regex NonAlphanumeric = new("[^a-z0-9]+", RegexOptions.CultureInvariant);
    private static readonly Regex RougeN = new("^rouge([0-9])$", RegexOptions.CultureInvariant);

    /// <summary>rouge-score's tokenize: lowercase, non-[a-z0-9] to spaces, split, Porter-stem tokens longer than 3.</summary>
    public static List<string> Tokenize(string text, bool stemmer)
    {
        text = NonAlphanumeric.Replace(PythonText.Lower(text), " ");
        var tokens = new List<string>();
        foreach (var t in PythonText.Split(text))
        {
            string token = stemmer && t.Length > 3 ? PorterStemmer.Stem(t) : t;
            if (token.Length > 0) tokens.Add(token);
        }
        return tokens;
    }

    /// <summary>One ROUGE type ("rouge1".."rouge9", "rougeL", "rougeLsum") of a prediction against a target.</summary>
    public static RougeScore Score(string target, string prediction, string rougeType, bool stemmer)
    {
        if (rougeType == "rougeLsum")
            return SummaryLevelLcs(Sentences(target).Select(s => Tokenize(s, stemmer)).ToList(), Sentences(prediction).Select(s => Tokenize(s, stemmer)).ToList());
        var t = Tokenize(target, stemmer);
        var p = Tokenize(prediction, stemmer);
        if (rougeType == "rougeL") return Lcs(t, p);
        var m = RougeN.Match(rougeType);
        if (!m.Success || m.Groups[1].Value == "0")
            throw new ArgumentException($"ROUGE type \"{rougeType}\" is not known; use rouge1..rouge9, rougeL or rougeLsum.", nameof(rougeType));
        return Ngrams(t, p, m.Groups[1].Value[0] - '0');
    }

    /// <summary>The best (by F-measure; the first on a tie) of the scores against each target (rouge-score's score_multi).</summary>
    public static RougeScore ScoreMulti(IReadOnlyList<string> targets, string prediction, string rougeType, bool stemmer)
    {
        if (targets.Count == 0) throw new ArgumentException("ROUGE needs at least one target.", nameof(targets));
        RougeScore best = default;
        for (int i = 0; i < targets.Count; i++)
        {
            var s = Score(targets[i], prediction, rougeType, stemmer);
            if (i == 0 || s.FMeasure > best.FMeasure) best = s;
        }
        return best;
    }

    /// <summary>
    /// The mean precision, recall and F-measure over pairs (what Hugging Face evaluate's rouge reports
    /// with use_aggregator=False, averaged; rouge-score's BootstrapAggregator "mid" estimates this mean).
    /// </summary>
    public static RougeScore Corpus(IReadOnlyList<IReadOnlyList<string>> targets, IReadOnlyList<string> predictions, string rougeType, bool stemmer)
    {
        if (targets.Count != predictions.Count)
            throw new ArgumentException($"ROUGE got {predictions.Count} predictions and {targets.Count} targets; they must pair up.");
        if (predictions.Count == 0) throw new ArgumentException("ROUGE needs at least one prediction.");
        double p = 0, r = 0, f = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            var s = ScoreMulti(targets[i], predictions[i], rougeType, stemmer);
            p += s.Precision; r += s.Recall; f += s.FMeasure;
        }
        int n = predictions.Count;
        return new RougeScore(p / n, r / n, f / n);
    }

    private static List<string> Sentences(string text) => text.Split('\n').Where(s => s.Length > 0).ToList();

    private static RougeScore Ngrams(List<string> target, List<string> prediction, int n)
    {
        var t = Count(target, n);
        var p = Count(prediction, n);
        long overlap = 0, tCount = 0, pCount = 0;
        foreach (var (g, c) in t) overlap += Math.Min(c, p.GetValueOrDefault(g));
        foreach (var c in t.Values) tCount += c;
        foreach (var c in p.Values) pCount += c;
        return RougeScore.Of((double)overlap / Math.Max(pCount, 1), (double)overlap / Math.Max(tCount, 1));
    }

    private static Dictionary<string, int> Count(List<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            string key = string.Join(' ', tokens.GetRange(i, n));   // tokens are [a-z0-9]+, so a space cannot collide
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }

    private static RougeScore Lcs(List<string> target, List<string> prediction)
    {
        if (target.Count == 0 || prediction.Count == 0) return new RougeScore(0, 0, 0);
        int lcs = LcsTable(target, prediction)[target.Count, prediction.Count];
        return RougeScore.Of((double)lcs / prediction.Count, (double)lcs / target.Count);
    }

    private static int[,] LcsTable(List<string> reference, List<string> candidate)
    {
        int rows = reference.Count, cols = candidate.Count;
        var t = new int[rows + 1, cols + 1];
        for (int i = 1; i <= rows; i++)
            for (int j = 1; j <= cols; j++)
                t[i, j] = reference[i - 1] == candidate[j - 1] ? t[i - 1, j - 1] + 1 : Math.Max(t[i - 1, j], t[i, j - 1]);
        return t;
    }

    // _backtrack_norec: indices into reference of one LCS, preferring to move left on a strict gain.
    private static List<int> LcsIndices(List<string> reference, List<string> candidate)
    {
        var t = LcsTable(reference, candidate);
        int i = reference.Count, j = candidate.Count;
        var lcs = new List<int>();
        while (i > 0 && j > 0)
        {
            if (reference[i - 1] == candidate[j - 1]) { lcs.Add(i - 1); i--; j--; }
            else if (t[i, j - 1] > t[i - 1, j]) j--;
            else i--;
        }
        lcs.Reverse();
        return lcs;
    }

    private static RougeScore SummaryLevelLcs(List<List<string>> reference, List<List<string>> candidate)
    {
        if (reference.Count == 0 || candidate.Count == 0) return new RougeScore(0, 0, 0);
        int m = reference.Sum(s => s.Count), n = candidate.Sum(s => s.Count);
        if (m == 0 || n == 0) return new RougeScore(0, 0, 0);
        var countsR = new Dictionary<string, int>(StringComparer.Ordinal);
        var countsC = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in reference) foreach (var t in s) countsR[t] = countsR.GetValueOrDefault(t) + 1;
        foreach (var s in candidate) foreach (var t in s) countsC[t] = countsC.GetValueOrDefault(t) + 1;
        int hits = 0;
        foreach (var r in reference)
        {
            // _union_lcs: the sorted union of the LCS indices against every candidate sentence.
            var union = new SortedSet<int>();
            foreach (var c in candidate) union.UnionWith(LcsIndices(r, c));
            foreach (int index in union)
            {
                string token = r[index];
                if (countsC.GetValueOrDefault(token) > 0 && countsR.GetValueOrDefault(token) > 0)
                {
                    hits++;
                    countsC[token]--;
                    countsR[token]--;
                }
            }
        }
        return RougeScore.Of((double)hits / n, (double)hits / m);
    }
}
