// The language-model loss, apart from bodies and heads: mean cross-entropy of logits (N, V) against
// targets, positions whose target is −100 (PyTorch's ignore_index) left out. The backward is fused
// with the softmax (one pass, in place over the logits).
using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Models.Losses;

/// <summary>Mean token cross-entropy over targets ≠ −100.</summary>
public static class CrossEntropyLoss
{
    /// <summary>PyTorch's ignore_index.</summary>
    public const int IgnoreIndex = CrossEntropy.DefaultIgnoreIndex;

    /// <summary>The mean loss; per-row losses go to <paramref name="losses"/> (N).</summary>
    public static float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int classes, Span<float> losses, WorkerPool pool) =>
        CrossEntropy.ForwardBackward(logits, targets, classes, losses, default, IgnoreIndex, 1f, pool);

    /// <summary>Overwrites <paramref name="logits"/> with the gradient of <paramref name="scale"/> × the mean loss.</summary>
    public static void Backward(Span<float> logits, ReadOnlySpan<int> targets, int classes, Span<float> losses, float scale, WorkerPool pool) =>
        CrossEntropy.ForwardBackward(logits, targets, classes, losses, logits, IgnoreIndex, scale, pool);
}
