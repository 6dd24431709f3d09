// The numbers the official SQuAD scripts print, in percent: evaluate-v1.1.py's exact_match and f1,
// evaluate-v2.0.py's exact, f1, total and the HasAns_/NoAns_ breakdown (absent when a split is empty).
namespace Loom.Evaluation.Metrics;

/// <summary>SQuAD v2.0 evaluation result (percentages), as evaluate-v2.0.py's out_eval.</summary>
public sealed record SquadV2Result
{
    /// <summary>Exact match over scored questions, percent.</summary>
    public required double Exact { get; init; }
    /// <summary>Token F1 over scored questions, percent.</summary>
    public required double F1 { get; init; }
    /// <summary>Questions scored (those with a prediction).</summary>
    public required int Total { get; init; }
    /// <summary>Exact match over answerable questions; null when the dataset has none.</summary>
    public double? HasAnsExact { get; init; }
    /// <summary>F1 over answerable questions.</summary>
    public double? HasAnsF1 { get; init; }
    /// <summary>Answerable questions.</summary>
    public int? HasAnsTotal { get; init; }
    /// <summary>Exact match over unanswerable questions; null when the dataset has none.</summary>
    public double? NoAnsExact { get; init; }
    /// <summary>F1 over unanswerable questions.</summary>
    public double? NoAnsF1 { get; init; }
    /// <summary>Unanswerable questions.</summary>
    public int? NoAnsTotal { get; init; }
}

/// <summary>SQuAD v1.1 evaluation result (percentages), as evaluate-v1.1.py prints it.</summary>
public sealed record SquadV1Result(double ExactMatch, double F1);
