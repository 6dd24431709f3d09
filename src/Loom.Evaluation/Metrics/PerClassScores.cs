// Precision, recall, F-beta and support for each class, in label order.
namespace Loom.Evaluation.Metrics;

/// <summary>
/// Per-class scores (scikit-learn's <c>precision_recall_fscore_support(average=None)</c>); every array is in
/// <see cref="Labels"/> order. <see cref="Support"/> counts true samples, <see cref="Predicted"/> predicted ones
/// (a zero there means precision was ill-defined and set by the zero-division rule).
/// </summary>
public sealed record PerClassScores(int[] Labels, double[] Precision, double[] Recall, double[] FScore, long[] Support, long[] Predicted);
