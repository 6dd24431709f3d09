// Settings of sacreBLEU's BLEU (sacrebleu/metrics/bleu.py), with its defaults.
namespace Loom.Evaluation.Metrics;

/// <summary>sacreBLEU BLEU settings; the defaults are sacreBLEU's (13a, exp smoothing, case-sensitive, order 4).</summary>
public sealed record BleuOptions
{
    /// <summary>"13a" (default), "intl", "char" or "none".</summary>
    public string Tokenize { get; init; } = "13a";

    /// <summary>"exp" (default), "floor", "add-k" or "none".</summary>
    public string SmoothMethod { get; init; } = "exp";

    /// <summary>The value for floor (default 0.1) and add-k (default 1); null takes the default.</summary>
    public double? SmoothValue { get; init; }

    /// <summary>Lowercase hypotheses and references first (sacreBLEU -lc).</summary>
    public bool Lowercase { get; init; }

    /// <summary>Largest n-gram order (default 4).</summary>
    public int MaxNgramOrder { get; init; } = 4;

    /// <summary>Average only over orders with hypothesis n-grams (sacreBLEU's sentence-BLEU default; off for corpus BLEU).</summary>
    public bool EffectiveOrder { get; init; }

    internal double ResolvedSmoothValue => SmoothValue ?? SmoothMethod switch { "floor" => 0.1, "add-k" => 1.0, _ => 0.0 };

    internal void Validate()
    {
        if (SmoothMethod is not ("exp" or "floor" or "add-k" or "none"))
            throw new ArgumentException($"BLEU smooth method \"{SmoothMethod}\" is not known; use exp, floor, add-k or none.");
        if (MaxNgramOrder < 1) throw new ArgumentException($"BLEU max n-gram order must be at least 1; got {MaxNgramOrder}.");
        if (!BleuTokenizer.Names.Contains(Tokenize))
            throw new ArgumentException($"BLEU tokenizer \"{Tokenize}\" is not known; use one of: {string.Join(", ", BleuTokenizer.Names)}.");
    }
}
