namespace Loom.Evaluation.Judging;

/// <summary>Pairwise (A vs B, asked in both orders) or single-answer grading on a rubric.</summary>
public enum JudgeMode { Pairwise, Single }
