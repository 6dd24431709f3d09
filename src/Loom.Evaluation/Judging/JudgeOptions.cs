namespace Loom.Evaluation.Judging;

/// <summary>How the judge is asked.</summary>
public sealed record JudgeOptions
{
    public JudgeMode Mode { get; init; } = JudgeMode.Pairwise;

    /// <summary>Grading criteria put into the judge's instructions (single mode; pairwise too when set).</summary>
    public string? Rubric { get; init; }

    /// <summary>Top of the single-answer scale (ratings 1..Max).</summary>
    public int ScaleMax { get; init; } = 10;

    public float Temperature { get; init; }
    public int MaxTokens { get; init; } = 1024;
    public int Seed { get; init; }

    /// <summary>Judge calls in flight at once.</summary>
    public int MaxConcurrency { get; init; } = 4;
}
