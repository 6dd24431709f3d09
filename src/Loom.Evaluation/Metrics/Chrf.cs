// sacreBLEU's chrF and chrF++ (mjpost/sacrebleu, sacrebleu/metrics/chrf.py), equal to it on its
// test vectors. Character n-grams of orders 1..CharOrder over the segment with whitespace removed
// (Python code points), plus word n-grams of orders 1..WordOrder over words whose one leading or
// trailing ASCII punctuation mark is split off (chrF++). Per segment, each reference gives per-order
// statistics (hypothesis n-grams — 0 when the reference has none of that order —, reference n-grams,
// clipped matches); the reference with the best sentence F-score wins. The corpus score applies the
// F-score to the summed statistics: with eps smoothing, the mean over orders of F_β (ε = 1e-16 for
// an empty side); without, F_β of the precision and recall averaged over orders where both sides
// have n-grams.
using System.Globalization;

namespace Loom.Evaluation.Metrics;

/// <summary>sacreBLEU chrF / chrF++.</summary>
public static class Chrf
{
    /// <summary>
    /// Corpus chrF of <paramref name="hypotheses"/> against reference streams (<c>referenceStreams[k][i]</c>
    /// is the k-th reference of segment i); null or empty references are skipped.
    /// </summary>
    public static ChrfScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string?>> referenceStreams, ChrfOptions? options = null)
    {
        options ??= new ChrfOptions();
        options.Validate();
        if (referenceStreams.Count == 0) throw new ArgumentException("chrF needs at least one reference stream.");
        for (int k = 0; k < referenceStreams.Count; k++)
            if (referenceStreams[k].Count != hypotheses.Count)
                throw new ArgumentException($"Reference stream {k} has {referenceStreams[k].Count} segments but there are {hypotheses.Count} hypotheses; each stream needs one reference per hypothesis.");
        int orders = options.CharOrder + options.WordOrder;
        var sum = new double[3 * orders];
        for (int i = 0; i < hypotheses.Count; i++)
        {
            var refs = referenceStreams.Select(s => s[i]).Where(r => !string.IsNullOrEmpty(r)).Select(r => r!).ToList();
            if (refs.Count == 0) throw new ArgumentException($"Segment {i} has no reference (every stream's is empty); sacreBLEU refuses empty or missing references too.");
            var stats = SegmentStatistics(hypotheses[i] ?? "", refs, options);
            for (int j = 0; j < sum.Length; j++) sum[j] += stats[j];
        }
        return new ChrfScore { Score = FScore(sum, options), Name = Name(options), Signature = Signature(options, referenceStreams.Count) };
    }

    /// <summary>Sentence chrF of one hypothesis.</summary>
    public static ChrfScore Sentence(string hypothesis, IReadOnlyList<string> references, ChrfOptions? options = null) =>
        Corpus([hypothesis], references.Select(r => (IReadOnlyList<string?>)new[] { r }).ToList(), options);

    /// <summary>sacreBLEU's metric name: chrF{β}, with ++ for word n-grams (chrF2++).</summary>
    public static string Name(ChrfOptions options) => $"chrF{options.Beta}" + new string('+', options.WordOrder);

    /// <summary>sacreBLEU's chrF signature.</summary>
    public static string Signature(ChrfOptions options, int references) =>
        string.Create(CultureInfo.InvariantCulture,
            $"nrefs:{references}|case:{(options.Lowercase ? "lc" : "mixed")}|eff:yes|nc:{options.CharOrder}|nw:{options.WordOrder}|space:{(options.Whitespace ? "yes" : "no")}|version:{Bleu.SignatureVersion}");

    private static double[] SegmentStatistics(string hypothesis, List<string> references, ChrfOptions options)
    {
        if (options.Lowercase)
        {
            hypothesis = PythonText.Lower(hypothesis);
            references = references.Select(PythonText.Lower).ToList();
        }
        var hyp = AllNgrams(hypothesis, options);
        double[]? best = null;
        double bestF = -1;
        foreach (var reference in references)
        {
            var r = AllNgrams(reference, options);
            var stats = new double[3 * hyp.Count];
            for (int o = 0; o < hyp.Count; o++)
            {
                long hypCount = 0, match = 0, refCount = 0;
                foreach (var (gram, count) in hyp[o])
                {
                    hypCount += count;
                    if (r[o].TryGetValue(gram, out int rc)) match += Math.Min(count, rc);
                }
                foreach (var rc in r[o].Values) refCount += rc;
                stats[3 * o] = r[o].Count > 0 ? hypCount : 0;   // no hits counted where the reference has no n-gram of that order
                stats[3 * o + 1] = refCount;
                stats[3 * o + 2] = match;
            }
            double f = FScore(stats, options);
            if (f > bestF) { bestF = f; best = stats; }
        }
        return best!;
    }

    // _compute_f_score: statistics are (hyp, ref, match) per order.
    private static double FScore(double[] stats, ChrfOptions options)
    {
        const double eps = 1e-16;
        int orders = stats.Length / 3;
        double factor = (double)options.Beta * options.Beta, score = 0, avgPrec = 0, avgRec = 0;
        int effectiveOrder = 0;
        for (int i = 0; i < orders; i++)
        {
            double nHyp = stats[3 * i], nRef = stats[3 * i + 1], nMatch = stats[3 * i + 2];
            double prec = nHyp > 0 ? nMatch / nHyp : eps;
            double rec = nRef > 0 ? nMatch / nRef : eps;
            double denom = factor * prec + rec;
            score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
            if (nHyp > 0 && nRef > 0)
            {
                avgPrec += prec;
                avgRec += rec;
                effectiveOrder++;
            }
        }
        if (options.EpsSmoothing) return 100 * score / orders;
        if (effectiveOrder == 0) avgPrec = avgRec = 0;
        else { avgPrec /= effectiveOrder; avgRec /= effectiveOrder; }
        if (avgPrec + avgRec == 0) return 0;
        return 100 * (1 + factor) * avgPrec * avgRec / (factor * avgPrec + avgRec);
    }

    // Character n-gram counters for orders 1..CharOrder, then word n-gram counters for 1..WordOrder.
    private static List<Dictionary<string, int>> AllNgrams(string line, ChrfOptions options)
    {
        var result = new List<Dictionary<string, int>>(options.CharOrder + options.WordOrder);
        string chars = options.Whitespace ? line : string.Concat(PythonText.Split(line));
        var starts = PythonText.CodePointStarts(chars);
        int length = starts.Length - 1;
        for (int n = 1; n <= options.CharOrder; n++)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i + n <= length; i++)
            {
                string gram = chars.Substring(starts[i], starts[i + n] - starts[i]);
                counts[gram] = counts.GetValueOrDefault(gram) + 1;
            }
            result.Add(counts);
        }
        if (options.WordOrder > 0)
        {
            var words = SplitPunctuation(line);
            for (int n = 1; n <= options.WordOrder; n++)
            {
                var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int i = 0; i + n <= words.Count; i++)
                {
                    string gram = string.Join(' ', words.GetRange(i, n));
                    counts[gram] = counts.GetValueOrDefault(gram) + 1;
                }
                result.Add(counts);
            }
        }
        return result;
    }

    // _remove_punctuation: a word longer than one character loses one trailing (else one leading)
    // ASCII punctuation mark into its own token ("(hi)" gives "(hi" and ")", sacrebleu #124).
    private static List<string> SplitPunctuation(string sentence)
    {
        var tokens = new List<string>();
        foreach (var w in PythonText.Split(sentence))
        {
            var starts = PythonText.CodePointStarts(w);
            if (starts.Length - 1 == 1) { tokens.Add(w); continue; }
            if (PythonText.IsAsciiPunctuation(w[^1])) { tokens.Add(w[..^1]); tokens.Add(w[^1..]); }
            else if (PythonText.IsAsciiPunctuation(w[0])) { tokens.Add(w[..1]); tokens.Add(w[1..]); }
            else tokens.Add(w);
        }
        return tokens;
    }
}
