// A projection stored as two factors, y = x·Aᵀ·Bᵀ + b with A (r × in) and B (out × r): the model seam's
// low-rank projection (truncated SVD, LowRankModels). It costs r·(in + out) weights and multiply-adds
// per token instead of in·out, a saving when r < in·out/(in + out). The factors are tensors of the
// model's ParameterSet ("<path>.low_rank_A.weight", "<path>.low_rank_B.weight"), so they load, save and
// (when trainable) get gradients like any parameter; the bias is the projection's own.
//   forward:  u = x·Aᵀ (rows × r);  y (+)= u·Bᵀ + b
//   backward: du = dy·B;  dx (+)= du·A;  dB += dyᵀ·u;  dA += duᵀ·x;  db += Σ dy
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Compression.LowRank;

/// <summary>y = x·(B·A)ᵀ + b with rank-r factors.</summary>
public sealed class LowRankProjection : IProjection
{
    private readonly ParameterSet _p;
    private readonly WorkerPool _pool;
    private readonly int _a, _b, _bias, _r, _in, _out;
    private float[] _u = [];    // (rows, r) scratch, grown to the largest row count seen
    private float[] _du = [];   // (rows, r)

    /// <summary>A projection for <paramref name="spec"/> over factors A and B at the given indexes of <paramref name="parameters"/>.</summary>
    public LowRankProjection(ProjectionSpec spec, ParameterSet parameters, int aIndex, int bIndex, WorkerPool? pool = null)
    {
        Spec = spec;
        _p = parameters;
        _pool = pool ?? WorkerPool.Shared;
        _a = aIndex;
        _b = bIndex;
        _bias = spec.BiasIndex;
        _in = spec.InFeatures;
        _out = spec.OutFeatures;
        var sa = parameters.Specs[aIndex].Shape;
        var sb = parameters.Specs[bIndex].Shape;
        if (sa.Length != 2 || sa[1] != _in)
            throw new ArgumentException($"{spec.Path}: factor A \"{parameters.Specs[aIndex].Name}\" has shape [{string.Join(", ", sa)}]; the projection has {_in} inputs, so it must be [r, {_in}].");
        _r = (int)sa[0];
        if (sb.Length != 2 || sb[0] != _out || sb[1] != _r)
            throw new ArgumentException($"{spec.Path}: factor B \"{parameters.Specs[bIndex].Name}\" has shape [{string.Join(", ", sb)}]; with r = {_r} and {_out} outputs it must be [{_out}, {_r}].");
    }

    /// <inheritdoc/>
    public ProjectionSpec Spec { get; }

    /// <summary>The rank r.</summary>
    public int Rank => _r;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false)
    {
        Span<float> u = Scratch(ref _u, rows * _r);
        Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, _r, _in, 1f, x, _in, _p.Value(_a), _in, 0f, u, _r, _pool);
        Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, _out, _r, 1f, u, _r, _p.Value(_b), _r, accumulate ? 1f : 0f, y, _out, _pool);
        if (_bias >= 0)
        {
            ReadOnlySpan<float> b = _p.Value(_bias);
            for (int t = 0; t < rows; t++) System.Numerics.Tensors.TensorPrimitives.Add(y.Slice(t * _out, _out), b, y.Slice(t * _out, _out));
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false)
    {
        ReadOnlySpan<float> a = _p.Value(_a), b = _p.Value(_b);
        bool trainA = _p.IsTrainable(_a), trainB = _p.IsTrainable(_b), trainBias = _bias >= 0 && _p.IsTrainable(_bias);
        if (trainB)
        {
            Span<float> u = Scratch(ref _u, rows * _r);
            Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, _r, _in, 1f, x, _in, a, _in, 0f, u, _r, _pool);
            Gemm.Sgemm(Transpose.Yes, Transpose.No, _out, _r, rows, 1f, dy, _out, u, _r, 1f, _p.Gradient(_b), _r, _pool);
        }
        if (trainBias) Bias.Backward(dy, _p.Gradient(_bias), _pool);
        if (!trainA && dx.IsEmpty) return;
        Span<float> du = Scratch(ref _du, rows * _r);
        Gemm.Sgemm(Transpose.No, Transpose.No, rows, _r, _out, 1f, dy, _out, b, _r, 0f, du, _r, _pool);
        if (trainA) Gemm.Sgemm(Transpose.Yes, Transpose.No, _r, _in, rows, 1f, du, _r, x, _in, 1f, _p.Gradient(_a), _in, _pool);
        if (!dx.IsEmpty) Gemm.Sgemm(Transpose.No, Transpose.No, rows, _in, _r, 1f, du, _r, a, _in, accumulateInput ? 1f : 0f, dx, _in, _pool);
    }

    private static Span<float> Scratch(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];   // grows once per new largest shape, never per step
        return buffer.AsSpan(0, length);
    }

    public void Dispose() { }
}
