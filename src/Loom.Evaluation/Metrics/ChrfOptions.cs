// Settings of sacreBLEU's chrF (Popović 2015, "chrF: character n-gram F-score for automatic MT
// evaluation"; chrF++ adds word n-grams, Popović 2017), with sacreBLEU's defaults.
namespace Loom.Evaluation.Metrics;

/// <summary>chrF / chrF++ settings; defaults are sacreBLEU's chrF2 (char order 6, word order 0, β 2).</summary>
public sealed record ChrfOptions
{
    /// <summary>Largest character n-gram order (6).</summary>
    public int CharOrder { get; init; } = 6;

    /// <summary>Largest word n-gram order: 0 for chrF, 2 for chrF++.</summary>
    public int WordOrder { get; init; }

    /// <summary>Recall weight β (2).</summary>
    public int Beta { get; init; } = 2;

    /// <summary>Case-insensitive.</summary>
    public bool Lowercase { get; init; }

    /// <summary>Keep whitespace inside character n-grams (sacreBLEU's whitespace=True); off by default.</summary>
    public bool Whitespace { get; init; }

    /// <summary>
    /// sacreBLEU's eps_smoothing: average per-order F-scores with ε for empty orders (chrF++.py's way);
    /// off by default, which averages precision and recall over the orders that have n-grams (sacreBLEU &lt; 2.0).
    /// </summary>
    public bool EpsSmoothing { get; init; }

    /// <summary>chrF++: word order 2.</summary>
    public static ChrfOptions ChrfPlusPlus => new() { WordOrder = 2 };

    internal void Validate()
    {
        if (CharOrder < 1) throw new ArgumentException($"chrF char order must be at least 1; got {CharOrder}.");
        if (WordOrder < 0) throw new ArgumentException($"chrF word order must be at least 0; got {WordOrder}.");
        if (Beta < 0) throw new ArgumentException($"chrF beta must be at least 0; got {Beta}.");
    }
}
