// Exact match and token F1 between a predicted and a reference answer for the harness's generative
// tasks: the official SQuAD v2.0 definitions of Metrics/Squad (normalize_answer, compute_exact,
// compute_f1 — checked there against evaluate-v2.0.py), and the max over several references
// (metric_max_over_ground_truths), with v2.0's rule that references normalising to "" are dropped
// and a question left with none has [""] as its only reference.
using Loom.Evaluation.Metrics;

namespace Loom.Evaluation.Harness;

/// <summary>SQuAD-style answer comparison.</summary>
public static class AnswerScoring
{
    /// <summary>evaluate-v2.0.py's normalize_answer.</summary>
    public static string Normalize(string s) => Squad.Normalize(s);

    /// <summary>1 when the normalised answers are equal.</summary>
    public static double ExactMatch(string prediction, string reference) => Squad.ExactMatch(reference, prediction);

    /// <summary>Token F1 of the normalised answers (1 when both are empty, 0 when one is).</summary>
    public static double F1(string prediction, string reference) => Squad.F1(reference, prediction);

    /// <summary>The best score over <paramref name="references"/>; SQuAD v2.0's empty-reference rule.</summary>
    public static double Best(Func<string, string, double> metric, string prediction, IReadOnlyList<string> references)
    {
        var kept = references.Where(r => Normalize(r).Length > 0).ToList();
        return kept.Count == 0 ? metric(prediction, "") : kept.Max(r => metric(prediction, r));
    }
}
