// Selective generation in the server (El-Yaniv & Wiener 2010's reject option, applied to text): below
// a confidence threshold the server either attaches a "not verified" warning to the answer or
// abstains (replaces the answer with AbstainText). The score is the completion's mean token
// log-probability (GenerationConfidence); every non-streamed choice reports it either way. A streamed
// answer has already been sent when its confidence is known, so there only the warning applies.
namespace Loom.Serving.Guards;

/// <summary>What the server does with a low-confidence answer.</summary>
public enum LowConfidenceAction
{
    /// <summary>Keep the answer; add "warning": "not verified: ..." to the choice.</summary>
    Warn,
    /// <summary>Replace the answer with <see cref="SelectiveGenerationOptions.AbstainText"/> and set "abstained": true.</summary>
    Abstain,
}

/// <summary>Settings of selective generation (`loom serve --min-confidence L --low-confidence warn|abstain`).</summary>
public sealed record SelectiveGenerationOptions
{
    /// <summary>Mean token log-probability below which an answer is low-confidence (null: never).</summary>
    public double? MinMeanLogprob { get; init; }

    public LowConfidenceAction Action { get; init; } = LowConfidenceAction.Warn;

    /// <summary>The answer given instead when abstaining.</summary>
    public string AbstainText { get; init; } = "I am not confident enough to answer this reliably.";

    /// <summary>Whether a completion with this confidence is below the threshold.</summary>
    public bool IsLow(Loom.Inference.Engine.GenerationConfidence? c) => MinMeanLogprob is { } min && c is { } x && x.MeanLogprob < min;

    /// <summary>The warning text for a low-confidence answer.</summary>
    public string Warning(Loom.Inference.Engine.GenerationConfidence c) =>
        $"not verified: low confidence (mean token log-probability {c.MeanLogprob:F2} < {MinMeanLogprob:F2}, mean entropy {c.MeanEntropy:F2} nats)";

    public void Validate()
    {
        if (MinMeanLogprob is { } m && (!(m <= 0) || double.IsNaN(m)))
            throw new ArgumentException($"--min-confidence is {m}; it is a mean token log-probability, so ≤ 0 (e.g. -1.5).");
        if (string.IsNullOrWhiteSpace(AbstainText)) throw new ArgumentException("AbstainText must not be empty.");
    }
}
