// A transformer block's residual branch with hidden dropout (Vaswani et al. 2017 §5.4: dropout on
// each sub-layer's output before it is added to the sub-layer input), shared by every family:
//   output = residual + drop(projection(input))
// Without dropout the projection accumulates straight into the copied residual, saving the branch
// buffer and one pass over memory. The mask comes from (seed, stream), so activation checkpointing
// regenerates it identically when it recomputes the block.
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Projections;

namespace Loom.Models.Regularization;

/// <summary>residual + dropout(projection(input)), dropout only in a training forward with hidden dropout.</summary>
internal static class ResidualBranch
{
    /// <summary>output (rows, out) = residual + drop(projection(input (rows, in))).</summary>
    /// <param name="projection">The sub-layer's output projection.</param>
    /// <param name="input">Its input (rows, in).</param>
    /// <param name="residual">The sub-layer's input (rows, out), added back.</param>
    /// <param name="output">The sum (rows, out).</param>
    /// <param name="rows">B·T.</param>
    /// <param name="dropped">Whether this forward applies hidden dropout (the plan may hold masks while evaluating).</param>
    /// <param name="mask">(rows, out) mask; unused unless <paramref name="dropped"/>.</param>
    /// <param name="branch">(rows, out) scratch for the projection before its dropout, empty without dropout.</param>
    /// <param name="dropout">The model's dropout probabilities and seed.</param>
    /// <param name="stream">The mask's stream (<see cref="Dropout.Stream"/>: step, layer, site).</param>
    /// <param name="pool">Worker pool.</param>
    public static void Forward(IProjection projection, ReadOnlySpan<float> input, ReadOnlySpan<float> residual, Span<float> output, int rows,
        bool dropped, Span<float> mask, Span<float> branch, DropoutOptions dropout, ulong stream, WorkerPool pool)
    {
        if (!dropped)
        {
            residual.CopyTo(output);
            projection.Forward(input, output, rows, accumulate: true);
            return;
        }
        Dropout.FillMask(mask, dropout.Hidden, dropout.Seed, stream);
        projection.Forward(input, branch, rows);
        Dropout.Apply(branch, mask);
        Arithmetic.Add(residual, branch, output, pool);
    }
}
