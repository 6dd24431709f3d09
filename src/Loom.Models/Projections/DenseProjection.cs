// The default projection: an f32 weight (and optional bias) in the model's ParameterSet, in either
// layout. The three GEMMs per layout (Core's Linear and Conv1D kernels):
//   OutIn (nn.Linear): y = x·Wᵀ + b (NT);  dx = dy·W (NN);   dW += dyᵀ·x (TN)
//   InOut (Conv1D):    y = x·W + b  (NN);  dx = dy·Wᵀ (NT);  dW += xᵀ·dy (TN)
// (dW = … instead of += when the step's gradients were zeroed lazily: ParameterSet.GradientToWrite.)
// A frozen weight skips its gradient GEMM (a third of the backward's flops); a frozen bias its row
// sum. A single row (KV-cache decoding) uses the matrix-vector kernels, which read each weight once.
using System.Numerics.Tensors;
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Parameters;

namespace Loom.Models.Projections;

/// <summary>y = x·W + b with W an f32 parameter, nn.Linear or Conv1D layout.</summary>
public sealed class DenseProjection : IProjection
{
    private readonly ParameterSet _p;
    private readonly WorkerPool _pool;
    private readonly int _w, _b, _in, _out;
    private readonly bool _outIn;

    /// <inheritdoc/>
    public ProjectionSpec Spec { get; }

    /// <summary>A projection over the weight (and bias) <paramref name="spec"/> names in <paramref name="parameters"/>.</summary>
    public DenseProjection(ProjectionSpec spec, ParameterSet parameters, WorkerPool? pool = null)
    {
        Spec = spec;
        _p = parameters;
        _pool = pool ?? WorkerPool.Shared;
        _w = spec.WeightIndex;
        _b = spec.BiasIndex;
        _in = spec.InFeatures;
        _out = spec.OutFeatures;
        _outIn = spec.Layout == ProjectionLayout.OutIn;
        long want = (long)_in * _out;
        if (parameters.Specs[_w].Count != want)
            throw new ArgumentException($"{spec.Path}: weight \"{parameters.Specs[_w].Name}\" has {parameters.Specs[_w].Count} elements; {_in} in × {_out} out needs {want}.");
        if (_b >= 0 && parameters.Specs[_b].Count != _out)
            throw new ArgumentException($"{spec.Path}: bias \"{parameters.Specs[_b].Name}\" has {parameters.Specs[_b].Count} elements; the projection has {_out} outputs.");
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false)
    {
        ReadOnlySpan<float> w = _p.Value(_w), b = _b >= 0 ? _p.Value(_b) : default;
        if (rows == 1 && !accumulate)
        {
            if (_outIn)
            {
                MatVec.RowsDot(w, x, y, _pool);
                if (!b.IsEmpty) TensorPrimitives.Add(y, b, y);
            }
            else MatVec.ColumnsAxpy(x, w, b, y, _pool);
            return;
        }
        if (_outIn) Linear.Forward(x, w, b, y, rows, _in, _out, _pool, accumulate);
        else Conv1D.Forward(x, w, b, y, rows, _in, _out, accumulate, _pool);
    }

    /// <inheritdoc/>
    public void ForwardDecode(ReadOnlySpan<float> x, Span<float> y, int rows)
    {
        if (!SkinnyMatMul.Suits(rows) || _p.IsTrainable(_w)) { Forward(x, y, rows); return; }
        // A decode step of a batch of sequences (2..32 rows): read the weight in place once instead of
        // packing all of it for a GEMM per call (SkinnyMatMul's header has the measurement).
        ReadOnlySpan<float> w = _p.Value(_w), b = _b >= 0 ? _p.Value(_b) : default;
        if (_outIn) SkinnyMatMul.RowsDot(x[..(rows * _in)], w, b, y[..(rows * _out)], rows, _in, _out, false, _pool);
        else SkinnyMatMul.ColumnsPanel(x[..(rows * _in)], w, b, y[..(rows * _out)], rows, _in, _out, false, _pool);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false)
    {
        ReadOnlySpan<float> w = _p.Value(_w);
        bool trainW = _p.IsTrainable(_w), trainB = _b >= 0 && _p.IsTrainable(_b);
        Span<float> db = trainB ? _p.Gradient(_b) : default;
        if (trainW)
        {
            // The first backward of a step writes dW instead of adding to it (ParameterSet.ZeroGradientsOnFirstWrite).
            var dw = _p.GradientToWrite(_w, out bool overwrite);
            if (_outIn) Linear.Backward(dy, x, w, dx, dw, db, rows, _in, _out, accumulateInput, _pool, accumulateWeight: !overwrite);
            else Conv1D.Backward(dy, x, w, dx, dw, db, rows, _in, _out, accumulateInput, _pool, accumulateWeight: !overwrite);
            return;
        }
        // Frozen weight: only the input gradient (and a trainable bias's).
        if (!dx.IsEmpty)
        {
            if (_outIn) Gemm.Sgemm(Transpose.No, Transpose.No, rows, _in, _out, 1f, dy, _out, w, _in, accumulateInput ? 1f : 0f, dx, _in, _pool);
            else Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, _in, _out, 1f, dy, _out, w, _out, accumulateInput ? 1f : 0f, dx, _in, _pool);
        }
        if (trainB) Bias.Backward(dy, db, _pool);
    }

    public void Dispose() { }
}
