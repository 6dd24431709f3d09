// One averaged precision/recall/F-beta triple.
namespace Loom.Evaluation.Metrics;

/// <summary>Averaged precision, recall and F-beta (scikit-learn's <c>precision_recall_fscore_support</c> with an average).</summary>
public readonly record struct AveragedScores(double Precision, double Recall, double FScore);
