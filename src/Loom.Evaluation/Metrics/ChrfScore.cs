// A chrF result: the 0-100 score and the signature string sacreBLEU would print.
namespace Loom.Evaluation.Metrics;

/// <summary>chrF or chrF++ score.</summary>
public sealed record ChrfScore
{
    /// <summary>chrF on the 0-100 scale.</summary>
    public required double Score { get; init; }

    /// <summary>"chrF2" or "chrF2++" (sacreBLEU's name: β, then ++ when word n-grams count).</summary>
    public required string Name { get; init; }

    /// <summary>sacreBLEU's signature, e.g. nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x-loom.</summary>
    public required string Signature { get; init; }
}
