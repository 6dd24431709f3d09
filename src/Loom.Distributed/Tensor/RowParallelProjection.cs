// Megatron-LM's row-parallel linear layer (Shoeybi et al. 2019, §3, Fig. 3): the weight is split
// along its input features, each rank multiplies its slice of x (the column-parallel layer's output
// it already holds) by its rows of W, and the "g" operator — all-reduce in the forward, identity in
// the backward — sums the partial products. The bias is replicated and added once, after the sum;
// its gradient Σ dy is the same on every rank because dy is. So per block of attention + MLP the
// forward all-reduces twice (after each row-parallel projection) and the backward twice (f, in
// front of each column-parallel one) — Megatron's count for a transformer layer.
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Distributed.Communication;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Distributed.Tensor;

/// <summary>y = Σ_r x_r·W_r + b, summed by an all-reduce; backward is local.</summary>
public sealed class RowParallelProjection : IProjection
{
    private readonly IProjection _local;   // x_r·W_r without the bias
    private readonly ICommunicator _group;
    private readonly ParameterSet _parameters;
    private readonly WorkerPool _pool;
    private float[] _scratch = [];          // (rows, out) partial sum when the caller accumulates into y; grows with rows, then reused

    /// <summary>
    /// Wraps <paramref name="localWithoutBias"/> (this rank's rows of W, built from
    /// <paramref name="spec"/> with no bias; owned); the bias of <paramref name="spec"/> is added here after the sum.
    /// </summary>
    public RowParallelProjection(ProjectionSpec spec, IProjection localWithoutBias, ParameterSet parameters, ICommunicator group, WorkerPool pool)
    {
        if (localWithoutBias.Spec.HasBias)
            throw new ArgumentException($"{spec.Path}: a row-parallel projection adds its bias after the all-reduce; build the local projection without it.");
        Spec = spec;
        _local = localWithoutBias;
        _parameters = parameters;
        _group = group;
        _pool = pool;
    }

    /// <inheritdoc/>
    public ProjectionSpec Spec { get; }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false)
    {
        int n = rows * Spec.OutFeatures;
        if (!accumulate)
        {
            _local.Forward(x, y, rows);
            Reduce(y[..n]);
            return;
        }
        // The residual add (y += branch) must add the sum once, not once per rank: sum apart, then add.
        if (_scratch.Length < n) _scratch = new float[n];
        var partial = _scratch.AsSpan(0, n);
        _local.Forward(x, partial, rows);
        Reduce(partial);
        System.Numerics.Tensors.TensorPrimitives.Add(y[..n], partial, y[..n]);
    }

    // g: y = Σ_r partial_r (+ b)
    private void Reduce(Span<float> partial)
    {
        _group.AllReduceSum(partial);
        if (Spec.HasBias) Bias.Forward(partial, _parameters.Value(Spec.BiasIndex), partial, _pool);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false)
    {
        _local.Backward(dy, x, dx, rows, accumulateInput);   // g's backward is the identity: dx_r = dy·W_rᵀ, dW_r = x_rᵀ·dy
        if (Spec.HasBias && _parameters.IsTrainable(Spec.BiasIndex)) Bias.Backward(dy[..(rows * Spec.OutFeatures)], _parameters.Gradient(Spec.BiasIndex), _pool);
    }

    public void Dispose() => _local.Dispose();
}
