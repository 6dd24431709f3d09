// Token-distribution drift of a text column: the Jensen–Shannon divergence (natural log) between the word
// unigram distributions of the reference and the current texts, over the reference's most frequent words plus one
// bucket for all others. A JS value alone depends on how many texts were counted, so it is compared with a
// baseline measured the same way on the reference itself: a seeded sample of as many reference texts as the
// current window holds (at most half the reference) against the rest. Drift when JS ≥ 2 × baseline and
// JS ≥ 0.005 (both measured: on the shipped planted case, Shakespeare vs Shakespeare stays near 1× baseline,
// and the docs record the IMDB figures).
using Loom.Monitoring.Statistics;

namespace Loom.Monitoring.Text;

/// <summary>The word-distribution divergence of two sets of texts and its reference baseline.</summary>
public sealed record TokenDivergence(double Divergence, double Baseline, double Ratio, bool Drifted, IReadOnlyList<string> RisingWords)
{
    /// <summary>Words kept as separate bins (the rest share one).</summary>
    public const int TopWords = 2000;
    /// <summary>How many times the baseline counts as drift.</summary>
    public const double RatioThreshold = 2.0;
    /// <summary>The least divergence that counts as drift, whatever the baseline.</summary>
    public const double MinDivergence = 0.005;

    /// <summary>Measures <paramref name="current"/> against <paramref name="reference"/>.</summary>
    public static TokenDivergence Measure(IReadOnlyList<string> reference, IReadOnlyList<string> current, ulong seed = 17)
    {
        if (reference.Count < 2 || current.Count == 0)
            throw new ArgumentException($"Token divergence needs at least 2 reference and 1 current texts; got {reference.Count} and {current.Count}.");
        var refWords = reference.Select(Words.Split).ToArray();
        var curWords = current.Select(Words.Split).ToArray();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var ws in refWords) foreach (var w in ws) counts[w] = counts.GetValueOrDefault(w) + 1;
        var top = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(TopWords)
            .Select((kv, i) => (kv.Key, i)).ToDictionary(t => t.Key, t => t.i, StringComparer.Ordinal);
        double js = Js(Bins(refWords, top), Bins(curWords, top));
        // Baseline: a seeded sample of the reference, sized like the current window, against the rest.
        int sample = Math.Max(1, Math.Min(current.Count, reference.Count / 2));
        var order = Enumerable.Range(0, reference.Count).ToArray();
        var rng = new Random((int)(seed % int.MaxValue));
        rng.Shuffle(order);
        var inSample = order.Take(sample).ToHashSet();
        var a = refWords.Where((_, i) => inSample.Contains(i)).ToArray();
        var b = refWords.Where((_, i) => !inSample.Contains(i)).ToArray();
        double baseline = Js(Bins(b, top), Bins(a, top));
        double ratio = baseline > 0 ? js / baseline : (js > 0 ? double.PositiveInfinity : 0);
        var rising = Rising(refWords, curWords);
        return new TokenDivergence(js, baseline, ratio, ratio >= RatioThreshold && js >= MinDivergence, rising);
    }

    private static double[] Bins(IEnumerable<List<string>> docs, Dictionary<string, int> top)
    {
        var p = new double[top.Count + 1];
        foreach (var ws in docs) foreach (var w in ws) p[top.TryGetValue(w, out int i) ? i : top.Count]++;
        return p;
    }

    private static double Js(double[] p, double[] q) => p.Sum() == 0 || q.Sum() == 0 ? 0 : Divergences.JensenShannon(p, q);

    // The ten words whose share grew most (current share − reference share), for the report.
    private static List<string> Rising(List<string>[] reference, List<string>[] current)
    {
        var r = new Dictionary<string, double>(StringComparer.Ordinal);
        var c = new Dictionary<string, double>(StringComparer.Ordinal);
        double nr = 0, nc = 0;
        foreach (var ws in reference) foreach (var w in ws) { r[w] = r.GetValueOrDefault(w) + 1; nr++; }
        foreach (var ws in current) foreach (var w in ws) { c[w] = c.GetValueOrDefault(w) + 1; nc++; }
        if (nr == 0 || nc == 0) return [];
        return c.Select(kv => (kv.Key, Gain: kv.Value / nc - r.GetValueOrDefault(kv.Key) / nr))
            .OrderByDescending(t => t.Gain).ThenBy(t => t.Key, StringComparer.Ordinal).Take(10).Select(t => t.Key).ToList();
    }
}
