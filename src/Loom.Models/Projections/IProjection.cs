// The seam every weight matmul of GPT-2, Llama and BERT goes through (PEFT's "base layer"): the
// model calls Forward and Backward and never touches the weight itself, so a LoRA projection (a
// wrapper adding x·Aᵀ·Bᵀ) or a quantized one (blocks plus one dot-product kernel per format) plugs
// in through ModelOptions.Projections without editing a model file.
namespace Loom.Models.Projections;

/// <summary>y = x·W (+ b) over rows of x, and its backward.</summary>
public interface IProjection : IDisposable
{
    /// <summary>What the model built this projection for.</summary>
    ProjectionSpec Spec { get; }

    /// <summary>
    /// y[rows × out] = x[rows × in]·W (+ b); added to y when <paramref name="accumulate"/> (the residual adds).
    /// </summary>
    void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false);

    /// <summary>
    /// y = x·W for the few rows of a batched decode step (IBatchedDecoder.ForwardPaged, inference only): a
    /// projection may take a kernel for few rows there whose rounding differs from <see cref="Forward"/>'s
    /// GEMM, so every other path stays bit for bit what it was. Default: <see cref="Forward"/>.
    /// </summary>
    void ForwardDecode(ReadOnlySpan<float> x, Span<float> y, int rows) => Forward(x, y, rows);

    /// <summary>
    /// Backward of <see cref="Forward"/> for the x it was given: dx = dy·∂y/∂x (added to dx when
    /// <paramref name="accumulateInput"/>; skipped when dx is empty), and the gradients of the
    /// projection's trainable parameters added to theirs (frozen ones get none).
    /// </summary>
    void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false);
}
