// A projection whose weight is held as quantized blocks (Core's QuantizedMatrix, ggml's formats or
// QLoRA's NF4) instead of f32: the seam's "quantized" case (ggml: data plus one dot-product kernel per
// format; the model code never branches on the type). The matrix is (out × in) whatever the model's
// layout — GPT-2's Conv1D (in, out) weights are transposed when quantized, as llama.cpp's converter
// does — so one kernel serves both. The bias stays f32 in the ParameterSet.
//   forward:  y (+)= x·Wᵀ + b         (quantized dot products for few rows, dequantized panels + GEMM for many)
//   backward: dx (+)= dy·W; db += Σ dy (a trainable bias); the weight gets no gradient — it is frozen,
//             as QLoRA's base (Dettmers et al., 2023, §3: "gradients ... backpropagated through the frozen 4-bit model").
using Loom.Core.Kernels;
using Loom.Core.Kernels.Quantized;
using Loom.Core.Threading;
using Loom.Models.Parameters;

namespace Loom.Models.Projections;

/// <summary>y = x·Wᵀ + b with W in a block-quantized format, frozen.</summary>
public sealed class QuantizedProjection : IProjection
{
    private readonly ParameterSet _p;
    private readonly WorkerPool _pool;
    private readonly int _b;

    /// <inheritdoc/>
    public ProjectionSpec Spec { get; }

    /// <summary>The (out × in) quantized weight this projection owns (blocks, double-quantized NF4, or either with outliers).</summary>
    public IQuantizedWeight Weight { get; }

    /// <summary>
    /// A projection over <paramref name="weight"/> (out × in, owned and disposed by it); the spec's f32
    /// weight in <paramref name="parameters"/> is marked held by the projection (never loaded or written),
    /// unless <paramref name="sharedWeight"/>: then the f32 tensor stays loaded for its other user (GPT-2's
    /// tied head reading a GGUF file's quantized output.weight while the embedding lookup reads token_embd).
    /// </summary>
    public QuantizedProjection(ProjectionSpec spec, ParameterSet parameters, IQuantizedWeight weight, WorkerPool? pool = null, bool sharedWeight = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rows != spec.OutFeatures || weight.Columns != spec.InFeatures)
            throw new ArgumentException($"{spec.Path}: the quantized weight is ({weight.Rows} × {weight.Columns}); the projection needs ({spec.OutFeatures} out × {spec.InFeatures} in).");
        if (spec.BiasIndex >= 0 && parameters.Specs[spec.BiasIndex].Count != spec.OutFeatures)
            throw new ArgumentException($"{spec.Path}: bias \"{parameters.Specs[spec.BiasIndex].Name}\" has {parameters.Specs[spec.BiasIndex].Count} elements; the projection has {spec.OutFeatures} outputs.");
        Spec = spec;
        _p = parameters;
        _pool = pool ?? WorkerPool.Shared;
        _b = spec.BiasIndex;
        Weight = weight;
        if (!sharedWeight) parameters.MarkHeldByProjection(spec.WeightIndex);
    }

    /// <summary>
    /// Quantizes an f32 weight as the spec lays it out ((out, in) for nn.Linear, (in, out) for
    /// Conv1D, transposed here) into an (out × in) matrix of <paramref name="format"/>.
    /// </summary>
    public static QuantizedMatrix QuantizeWeight(ProjectionSpec spec, ReadOnlySpan<float> weight, QuantFormat format, WorkerPool? pool = null)
    {
        int bs = QuantFormatInfo.BlockSize(format);
        if (spec.InFeatures % bs != 0)
            throw new ArgumentException($"{spec.Path}: {spec.InFeatures} input features is not a multiple of {QuantFormatInfo.Name(format)}'s block of {bs}; keep this projection in f32 or choose a format with smaller blocks (q8_0, q4_0).");
        if (spec.Layout == ProjectionLayout.OutIn) return QuantizedMatrix.Quantize(format, weight, spec.OutFeatures, spec.InFeatures, pool);
        return QuantizedMatrix.Quantize(format, ToOutIn(spec, weight), spec.OutFeatures, spec.InFeatures, pool);
    }

    /// <summary>The weight as an (out × in) row-major copy, whatever the spec's storage layout (Conv1D's (in, out) is transposed).</summary>
    public static float[] ToOutIn(ProjectionSpec spec, ReadOnlySpan<float> weight)
    {
        if (spec.Layout == ProjectionLayout.OutIn) return weight.ToArray();
        var t = new float[(long)spec.InFeatures * spec.OutFeatures];
        for (int i = 0; i < spec.InFeatures; i++)
            for (int o = 0; o < spec.OutFeatures; o++)
                t[(long)o * spec.InFeatures + i] = weight[i * spec.OutFeatures + o];
        return t;
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false)
    {
        Weight.Multiply(x, y, rows, accumulate, _pool);
        if (_b < 0) return;
        ReadOnlySpan<float> b = _p.Value(_b);
        int n = Spec.OutFeatures;
        for (int r = 0; r < rows; r++) System.Numerics.Tensors.TensorPrimitives.Add(y.Slice(r * n, n), b, y.Slice(r * n, n));
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false)
    {
        if (!dx.IsEmpty) Weight.MultiplyTransposed(dy, dx, rows, accumulateInput, _pool);
        if (_b >= 0 && _p.IsTrainable(_b)) Bias.Backward(dy, _p.Gradient(_b), _pool);
    }

    public void Dispose() => Weight.Dispose();
}
