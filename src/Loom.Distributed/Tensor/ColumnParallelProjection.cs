// Megatron-LM's column-parallel linear layer (Shoeybi et al. 2019, §3, Fig. 3): the weight is split
// along its output features, each rank computes its columns of y from the whole (replicated) x. The
// "f" operator sits in front of it: identity in the forward, all-reduce in the backward — each rank's
// dx = dy_r·W_rᵀ is only its columns' share of the input gradient, and the sum over ranks is the
// whole model's dx. Nothing else is communicated: dW_r = xᵀ·dy_r and db_r are this rank's own.
using Loom.Distributed.Communication;
using Loom.Models.Projections;

namespace Loom.Distributed.Tensor;

/// <summary>y_r = x·W_r + b_r; backward all-reduces dx over the tensor-parallel group.</summary>
public sealed class ColumnParallelProjection : IProjection
{
    private readonly IProjection _local;
    private readonly ICommunicator _group;
    private float[] _scratch = [];   // (rows, in) partial dx when the caller accumulates; grows with rows, then reused

    /// <summary>Wraps this rank's projection over its columns (<paramref name="local"/>, owned).</summary>
    public ColumnParallelProjection(IProjection local, ICommunicator group)
    {
        _local = local;
        _group = group;
    }

    /// <inheritdoc/>
    public ProjectionSpec Spec => _local.Spec;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false) => _local.Forward(x, y, rows, accumulate);   // f: identity

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false)
    {
        if (dx.IsEmpty) { _local.Backward(dy, x, dx, rows); return; }
        int n = rows * Spec.InFeatures;
        if (!accumulateInput)
        {
            _local.Backward(dy, x, dx, rows);
            _group.AllReduceSum(dx[..n]);   // f's backward: Σ_r dy_r·W_rᵀ
            return;
        }
        if (_scratch.Length < n) _scratch = new float[n];
        var partial = _scratch.AsSpan(0, n);
        _local.Backward(dy, x, partial, rows);
        _group.AllReduceSum(partial);
        System.Numerics.Tensors.TensorPrimitives.Add(dx[..n], partial, dx[..n]);
    }

    public void Dispose() => _local.Dispose();
}
