// A BLEU result as sacreBLEU's BLEUScore holds it: the 0-100 score, the per-order matches and
// totals, precisions, brevity penalty and the lengths, plus the signature string that states how
// it was computed.
using System.Globalization;

namespace Loom.Evaluation.Metrics;

/// <summary>Corpus or sentence BLEU with its sufficient statistics.</summary>
public sealed record BleuScore
{
    /// <summary>BLEU on sacreBLEU's 0-100 scale.</summary>
    public required double Score { get; init; }

    /// <summary>Clipped n-gram matches per order (1..max order).</summary>
    public required double[] Counts { get; init; }

    /// <summary>Hypothesis n-grams per order.</summary>
    public required double[] Totals { get; init; }

    /// <summary>Per-order precisions, 0-100 (smoothed where the method says).</summary>
    public required double[] Precisions { get; init; }

    /// <summary>Brevity penalty.</summary>
    public required double BrevityPenalty { get; init; }

    /// <summary>Hypothesis length in tokens.</summary>
    public required long SystemLength { get; init; }

    /// <summary>Effective (closest) reference length in tokens.</summary>
    public required long ReferenceLength { get; init; }

    /// <summary>sacreBLEU's signature, e.g. nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x-loom.</summary>
    public string Signature { get; init; } = "";

    /// <summary>sacreBLEU's one-line form: "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)".</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        string p = string.Join('/', Precisions.Select(x => x.ToString("F1", c)));
        double ratio = ReferenceLength > 0 ? (double)SystemLength / ReferenceLength : 0;
        return string.Create(c, $"BLEU = {Score:F2} {p} (BP = {BrevityPenalty:F3} ratio = {ratio:F3} hyp_len = {SystemLength} ref_len = {ReferenceLength})");
    }
}
