// Token-distribution drift of a text column: the Jensen–Shannon divergence (natural log) between the word
// unigram distributions of the reference and the current texts, over the reference's most frequent words plus one
// bucket for all others. A JS value alone depends on how many texts were counted, so it is compared with what the
// reference itself gives: `Samples` seeded samples of as many reference texts as the current window holds (at most
// half the reference), each against the rest of the reference. Drift needs both an effect and significance: JS at
// least 1.5 × the baseline mean, and at least 3 baseline standard deviations above it (z ≥ 3).
using Loom.Monitoring.Statistics;

namespace Loom.Monitoring.Text;

/// <summary>The word-distribution divergence of two sets of texts and its reference baseline.</summary>
/// <param name="Divergence">JS(reference words ‖ current words).</param>
/// <param name="Baseline">The mean JS of reference samples sized like the current window against the rest.</param>
/// <param name="BaselineSd">Those samples' standard deviation.</param>
/// <param name="Ratio">Divergence / Baseline: the score compared with <see cref="RatioThreshold"/>.</param>
/// <param name="Z">(Divergence − Baseline) / BaselineSd.</param>
/// <param name="Drifted">Ratio ≥ 1.5 and z ≥ 3.</param>
/// <param name="RisingWords">The ten words whose share grew most.</param>
public sealed record TokenDivergence(double Divergence, double Baseline, double BaselineSd, double Ratio, double Z, bool Drifted, IReadOnlyList<string> RisingWords)
{
    /// <summary>Words kept as separate bins (the rest share one).</summary>
    public const int TopWords = 2000;
    /// <summary>How many times the baseline counts as drift.</summary>
    public const double RatioThreshold = 1.5;
    /// <summary>How many baseline standard deviations above its mean count as significant.</summary>
    public const double ZThreshold = 3;
    /// <summary>Reference samples drawn for the baseline.</summary>
    public const int Samples = 20;

    /// <summary>Measures <paramref name="current"/> against <paramref name="reference"/>.</summary>
    public static TokenDivergence Measure(IReadOnlyList<string> reference, IReadOnlyList<string> current, ulong seed = 17)
    {
        if (reference.Count < 4 || current.Count == 0)
            throw new ArgumentException($"Token divergence needs at least 4 reference and 1 current texts; got {reference.Count} and {current.Count}.");
        var refWords = reference.Select(Words.Split).ToArray();
        var curWords = current.Select(Words.Split).ToArray();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var ws in refWords) foreach (var w in ws) counts[w] = counts.GetValueOrDefault(w) + 1;
        var top = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(TopWords)
            .Select((kv, i) => (kv.Key, i)).ToDictionary(t => t.Key, t => t.i, StringComparer.Ordinal);
        // Each reference text as bin counts, so a sample's histogram is a sum.
        var docBins = refWords.Select(ws => ws.Select(w => top.TryGetValue(w, out int i) ? i : top.Count).ToArray()).ToArray();
        var refTotal = new double[top.Count + 1];
        foreach (var d in docBins) foreach (int b in d) refTotal[b]++;
        var cur = new double[top.Count + 1];
        foreach (var ws in curWords) foreach (var w in ws) cur[top.TryGetValue(w, out int i) ? i : top.Count]++;
        double js = Js(refTotal, cur);
        int sample = Math.Max(1, Math.Min(current.Count, reference.Count / 2));
        var rng = new Random((int)(seed % int.MaxValue));
        var order = Enumerable.Range(0, reference.Count).ToArray();
        var values = new double[Samples];
        var part = new double[top.Count + 1];
        var rest = new double[top.Count + 1];
        for (int s = 0; s < Samples; s++)
        {
            rng.Shuffle(order);
            Array.Clear(part);
            for (int k = 0; k < sample; k++) foreach (int b in docBins[order[k]]) part[b]++;
            for (int b = 0; b < rest.Length; b++) rest[b] = refTotal[b] - part[b];
            values[s] = Js(rest, part);
        }
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (Samples - 1));
        double ratio = mean > 0 ? js / mean : (js > 0 ? double.PositiveInfinity : 0);
        double z = sd > 0 ? (js - mean) / sd : (js > mean ? double.PositiveInfinity : 0);
        return new TokenDivergence(js, mean, sd, ratio, z, ratio >= RatioThreshold && z >= ZThreshold, Rising(refWords, curWords));
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
