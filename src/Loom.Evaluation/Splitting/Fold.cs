// One train/test split of a data set, as sample indices into it.
namespace Loom.Evaluation.Splitting;

/// <summary>One split: the indices (ascending) of the training and test samples. <see cref="Index"/> is the fold number.</summary>
public sealed record Fold(int Index, int[] TrainIndices, int[] TestIndices);
