// The result of any explainer: the text cut into display segments (words and separators for LIME,
// tokens for integrated gradients), and per explained class its probability, its top words and a
// weight per segment (0 for a segment the method gives none). Reports/ writes it as JSON and HTML.
namespace Loom.Explain;

/// <summary>A word (or token) and its weight toward a class.</summary>
public sealed record WordWeight(string Word, double Weight);

/// <summary>One class's explanation.</summary>
public sealed record ClassExplanation
{
    public required string Label { get; init; }
    /// <summary>The classifier's probability of this class for the original text.</summary>
    public required double Probability { get; init; }
    /// <summary>Top words by |weight|, descending.</summary>
    public required IReadOnlyList<WordWeight> Top { get; init; }
    /// <summary>Weight of each display segment (same length as <see cref="TextExplanation.Segments"/>).</summary>
    public required double[] SegmentWeights { get; init; }
    /// <summary>LIME: the local model's intercept.</summary>
    public double? Intercept { get; init; }
    /// <summary>LIME: weighted R² of the local model; IG: f(x) − f(baseline) the attributions should sum to.</summary>
    public double? Score { get; init; }
    /// <summary>LIME: the local model's prediction at the original text; IG: the sum of the attributions.</summary>
    public double? LocalPrediction { get; init; }
}

/// <summary>An explanation of one text.</summary>
public sealed record TextExplanation
{
    /// <summary>"lime" or "integrated_gradients".</summary>
    public required string Method { get; init; }
    public required string Text { get; init; }
    /// <summary>Display segments; concatenated they give the text (LIME) or its tokens (IG).</summary>
    public required IReadOnlyList<string> Segments { get; init; }
    public required IReadOnlyList<ClassExplanation> Classes { get; init; }
    /// <summary>Settings and figures of the run (samples, kernel width, steps, completeness error, ...).</summary>
    public IReadOnlyDictionary<string, double> Details { get; init; } = new Dictionary<string, double>();
}
