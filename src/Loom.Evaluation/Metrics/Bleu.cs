// sacreBLEU's BLEU (Post 2018, "A Call for Clarity in Reporting BLEU Scores"; mjpost/sacrebleu,
// sacrebleu/metrics/bleu.py), equal to it on its own test vectors (tests: Fixtures/sacrebleu_vectors.json).
// Per segment: lowercase if asked, rstrip, tokenize; count hypothesis n-grams (orders 1..N over
// str.split() tokens), clip each by its largest count in any reference, take the reference length
// closest to the hypothesis length (the shorter on a tie). Corpus BLEU sums those statistics and then
// applies compute_bleu: brevity penalty exp(1 − r/c) when c < r; precisions 100·m/t; no match at any
// order gives 0; smoothing "exp" (NIST geometric sequence: the k-th zero-match order gets 100/(2^k·t)),
// "floor" (100·v/t), "add-k" (m+k, t+k for orders ≥ 2) or "none"; log 0 is −9999999999 as my_log.
using System.Globalization;

namespace Loom.Evaluation.Metrics;

/// <summary>sacreBLEU corpus and sentence BLEU.</summary>
public static class Bleu
{
    /// <summary>The version of sacreBLEU whose algorithm this reproduces, as the signature states it.</summary>
    public const string SignatureVersion = "2.x-loom";

    /// <summary>
    /// Corpus BLEU of <paramref name="hypotheses"/> against reference streams: <c>referenceStreams[k][i]</c>
    /// is the k-th reference of segment i (sacreBLEU's corpus_bleu argument order). A null or empty
    /// reference is skipped, as sacreBLEU skips it; a segment left with none is an error.
    /// </summary>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string?>> referenceStreams, BleuOptions? options = null)
    {
        options ??= new BleuOptions();
        options.Validate();
        ArgumentNullException.ThrowIfNull(hypotheses);
        if (referenceStreams.Count == 0) throw new ArgumentException("BLEU needs at least one reference stream.");
        for (int k = 0; k < referenceStreams.Count; k++)
            if (referenceStreams[k].Count != hypotheses.Count)
                throw new ArgumentException($"Reference stream {k} has {referenceStreams[k].Count} segments but there are {hypotheses.Count} hypotheses; each stream needs one reference per hypothesis.");
        int N = options.MaxNgramOrder;
        var correct = new double[N];
        var total = new double[N];
        long sysLen = 0, refLen = 0;
        var refs = new List<string>(referenceStreams.Count);
        for (int i = 0; i < hypotheses.Count; i++)
        {
            refs.Clear();
            foreach (var stream in referenceStreams)
                if (!string.IsNullOrEmpty(stream[i])) refs.Add(stream[i]!);
            if (refs.Count == 0) throw new ArgumentException($"Segment {i} has no reference (every stream's is empty); sacreBLEU refuses empty or missing references too.");
            var (h, r) = SegmentStatistics(hypotheses[i] ?? "", refs, options, correct, total);
            sysLen += h;
            refLen += r;
        }
        return Compute(correct, total, sysLen, refLen, options, Signature(options, referenceStreams.Count));
    }

    /// <summary>Sentence BLEU of one hypothesis (sacreBLEU's sentence_bleu: effective order on unless the options say otherwise).</summary>
    public static BleuScore Sentence(string hypothesis, IReadOnlyList<string> references, BleuOptions? options = null)
    {
        options ??= new BleuOptions { EffectiveOrder = true };
        return Corpus([hypothesis], references.Select(r => (IReadOnlyList<string?>)new[] { r }).ToList(), options);
    }

    /// <summary>
    /// BLEU from sufficient statistics (sacreBLEU's compute_bleu): clipped matches and totals per order,
    /// hypothesis and reference lengths. The arrays are not modified.
    /// </summary>
    public static BleuScore Compute(ReadOnlySpan<double> correct, ReadOnlySpan<double> total, long systemLength, long referenceLength, BleuOptions? options = null, string signature = "")
    {
        options ??= new BleuOptions();
        options.Validate();
        int N = options.MaxNgramOrder;
        if (correct.Length != N || total.Length != N)
            throw new ArgumentException($"BLEU statistics need {N} orders (max n-gram order); got {correct.Length} matches and {total.Length} totals.");
        double[] c = correct.ToArray(), t = total.ToArray();
        double bp = systemLength < referenceLength ? (systemLength > 0 ? Math.Exp(1 - (double)referenceLength / systemLength) : 0.0) : 1.0;
        var precisions = new double[N];
        var result = new BleuScore { Score = 0, Counts = c, Totals = t, Precisions = precisions, BrevityPenalty = bp, SystemLength = systemLength, ReferenceLength = referenceLength, Signature = signature };
        // Early stop when nothing matches at any order (sacrebleu #141).
        if (!c.Any(x => x != 0)) return result;
        double smoothMteval = 1, value = options.ResolvedSmoothValue;
        int effectiveOrder = N;
        for (int n = 1; n <= N; n++)
        {
            if (options.SmoothMethod == "add-k" && n > 1)
            {
                c[n - 1] += value;
                t[n - 1] += value;
            }
            if (t[n - 1] == 0) break;
            if (options.EffectiveOrder) effectiveOrder = n;
            if (c[n - 1] == 0)
            {
                if (options.SmoothMethod == "exp")
                {
                    smoothMteval *= 2;
                    precisions[n - 1] = 100.0 / (smoothMteval * t[n - 1]);
                }
                else if (options.SmoothMethod == "floor")
                    precisions[n - 1] = 100.0 * value / t[n - 1];
            }
            else
                precisions[n - 1] = 100.0 * c[n - 1] / t[n - 1];
        }
        double sum = 0;
        for (int n = 0; n < effectiveOrder; n++) sum += precisions[n] == 0 ? -9999999999.0 : Math.Log(precisions[n]);
        return result with { Score = bp * Math.Exp(sum / effectiveOrder) };
    }

    /// <summary>sacreBLEU's signature for these options and this many reference streams.</summary>
    public static string Signature(BleuOptions options, int references) =>
        string.Create(CultureInfo.InvariantCulture,
            $"nrefs:{references}|case:{(options.Lowercase ? "lc" : "mixed")}|eff:{(options.EffectiveOrder ? "yes" : "no")}|tok:{options.Tokenize}|smooth:{options.SmoothMethod}{(options.SmoothValue is { } v ? $"[{v:0.00}]" : "")}|version:{SignatureVersion}");

    // Adds one segment's clipped matches and totals; returns (hypothesis length, closest reference length).
    private static (int Hyp, int Ref) SegmentStatistics(string hypothesis, List<string> references, BleuOptions options, double[] correct, double[] total)
    {
        int N = options.MaxNgramOrder;
        var hypTokens = PythonText.Split(Preprocess(hypothesis, options));
        var refMax = new Dictionary<string, int>(StringComparer.Ordinal);
        int closestDiff = -1, closestLen = -1;
        foreach (var reference in references)
        {
            var refTokens = PythonText.Split(Preprocess(reference, options));
            int diff = Math.Abs(hypTokens.Count - refTokens.Count);
            if (closestDiff == -1 || diff < closestDiff) { closestDiff = diff; closestLen = refTokens.Count; }
            else if (diff == closestDiff) closestLen = Math.Min(closestLen, refTokens.Count);
            foreach (var (gram, count) in Ngrams(refTokens, N))
                if (!refMax.TryGetValue(gram, out int m) || count > m) refMax[gram] = count;
        }
        foreach (var (gram, count) in Ngrams(hypTokens, N))
        {
            int order = OrderOf(gram);
            total[order - 1] += count;
            if (refMax.TryGetValue(gram, out int m)) correct[order - 1] += Math.Min(count, m);
        }
        return (hypTokens.Count, closestLen);
    }

    private static string Preprocess(string segment, BleuOptions options)
    {
        if (options.Lowercase) segment = PythonText.Lower(segment);
        return BleuTokenizer.Tokenize(PythonText.RStrip(segment), options.Tokenize);
    }

    // n-grams of orders 1..N keyed by their order (as the first char) and their tokens joined with U+0001
    // (Python keys by tuple; tokens never hold whitespace, and a control character U+0001 inside a token
    // is the only way two different n-grams could share a key).
    private const char Separator = '\u0001';

    private static Dictionary<string, int> Ngrams(List<string> tokens, int maxOrder)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int n = 1; n <= maxOrder; n++)
            for (int i = 0; i + n <= tokens.Count; i++)
            {
                string key = (char)n + string.Join(Separator, tokens.GetRange(i, n));
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        return counts;
    }

    private static int OrderOf(string gram) => gram[0];
}
