namespace Loom.Evaluation.Review;

/// <summary>One item for human raters or a judge: a prompt with one response (single) or two (pairwise); <see cref="Human"/> is an optional human verdict (A, B, tie) or score to measure a judge against.</summary>
public sealed record ReviewItem(string Id, string Prompt, string? Response, string? ResponseA, string? ResponseB, string? Human = null)
{
    public bool IsPairwise => ResponseA != null;
}
