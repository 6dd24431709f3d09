// Building a tensor-parallel shard of any registered family that declares its cut
// (ModelFamily.TensorParallelSplit): the model is built with ModelOptions.TensorParallel (it holds
// 1/N of the heads and MLP units) and with projections chosen by that cut — a weight split along its
// output features gets a ColumnParallelProjection (f), along its input features a
// RowParallelProjection (g). Weights come from the whole model's by slicing; gradients go back to
// whole tensors by an all-gather. Replicated tensors (embeddings, norms, row-parallel biases) see the
// same inputs and gradients on every rank, so they need no communication and stay identical.
using Loom.Core.Threading;
using Loom.Distributed.Communication;
using Loom.Models;
using Loom.Models.Families;
using Loom.Models.Parallel;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Distributed.Tensor;

/// <summary>Tensor-parallel (Megatron-LM) models over an <see cref="ICommunicator"/>.</summary>
public static class TensorParallelModels
{
    /// <summary>The family's cut, or an error naming the family.</summary>
    public static Func<string, TensorSplit?> SplitOf(object configuration)
    {
        var family = ModelFamilies.ForConfiguration(configuration)
            ?? throw new ArgumentException($"No registered model family for a {configuration.GetType().Name}.");
        return family.TensorParallelSplit
            ?? throw new NotSupportedException($"model_type \"{family.ModelType}\" does not support tensor_parallel yet; use data or pipeline parallelism for it.");
    }

    /// <summary>
    /// The projection factory of rank <c>group.Rank</c>'s shard: column- or row-parallel wrappers over
    /// dense projections where <paramref name="split"/> cuts the weight, dense elsewhere.
    /// </summary>
    public static ProjectionFactory Projections(ICommunicator group, Func<string, TensorSplit?> split) => context =>
    {
        var spec = context.Spec;
        string weight = context.Parameters.Specs[spec.WeightIndex].Name;
        if (split(weight) is not { } cut) return context.CreateDense();
        // Which of the stored dimensions holds the output features: (in, out) for Conv1D, (out, in) for nn.Linear.
        int outDim = spec.Layout == ProjectionLayout.InOut ? 1 : 0;
        if (cut.Dimension == outDim) return new ColumnParallelProjection(context.CreateDense(), group);
        return new RowParallelProjection(spec, new DenseProjection(spec with { BiasIndex = -1 }, context.Parameters, context.Pool), context.Parameters, group, context.Pool);
    };

    /// <summary>
    /// Builds this rank's shard of a causal LM of <paramref name="configuration"/> (zeroed: fill it
    /// with <see cref="LoadShard"/>). <paramref name="options"/> supplies roles and dropout; its own
    /// Projections must be null (the shard's projections are the parallel ones).
    /// </summary>
    public static ICausalLanguageModel Create(object configuration, ICommunicator group, ModelOptions? options = null, WorkerPool? pool = null)
    {
        options ??= ModelOptions.Default;
        if (options.Projections is not null)
            throw new NotSupportedException("tensor_parallel with custom projections (LoRA, quantized) is not supported: the shard's projections are the column/row-parallel ones.");
        var family = ModelFamilies.ForConfiguration(configuration)!;
        var split = SplitOf(configuration);
        var create = family.CreateCausalLanguageModel ?? throw new NotSupportedException($"model_type \"{family.ModelType}\" has no causal LM.");
        return create(configuration, options with { TensorParallel = new TensorParallelShard(group.Rank, group.Size), Projections = Projections(group, split) }, pool);
    }

    /// <summary>Copies this rank's slice of every tensor of <paramref name="whole"/> into <paramref name="shard"/>'s parameters.</summary>
    public static void LoadShard(ParameterSet whole, ParameterSet shard, Func<string, TensorSplit?> split, int rank, int size)
    {
        for (int i = 0; i < shard.Specs.Count; i++)
        {
            var spec = shard.Specs[i];
            int w = whole.IndexOf(spec.Name);
            var fullShape = whole.Specs[w].Shape;
            if (split(spec.Name) is { } cut) TensorShards.Slice(whole.Value(w), fullShape, cut, rank, size, shard.Value(i), spec.Name);
            else whole.Value(w).CopyTo(shard.Value(i));
        }
    }

    /// <summary>
    /// Assembles the whole gradient of parameter <paramref name="name"/> from every rank's shard
    /// (an all-gather; every rank must call it) into <paramref name="whole"/>, shaped <paramref name="wholeShape"/>.
    /// A replicated tensor's gradient is this rank's own (the same on every rank).
    /// </summary>
    public static void GatherGradient(ParameterSet shard, string name, long[] wholeShape, Func<string, TensorSplit?> split, ICommunicator group, Span<float> whole)
    {
        var local = shard.Gradient(shard.IndexOf(name));
        if (split(name) is not { } cut) { local.CopyTo(whole); return; }
        var all = new float[local.Length * group.Size];
        group.AllGather(local, all);
        for (int r = 0; r < group.Size; r++)
            TensorShards.Place(all.AsSpan(r * local.Length, local.Length), wholeShape, cut, r, group.Size, whole, name);
    }

    /// <summary>
    /// The global L2 norm of the whole model's gradient from the shards: split tensors' squares summed
    /// over ranks, replicated ones counted once (for clipping by global norm exactly as one rank would).
    /// </summary>
    public static float GradientNorm(ParameterSet shard, Func<string, TensorSplit?> split, ICommunicator group)
    {
        Span<double> sums = stackalloc double[2];   // [split tensors on this rank, replicated tensors]
        sums.Clear();
        for (int i = 0; i < shard.Specs.Count; i++)
        {
            if (!shard.IsTrainable(i)) continue;
            double s = 0;
            foreach (float g in shard.Gradient(i)) s += (double)g * g;
            sums[split(shard.Specs[i].Name) is null ? 1 : 0] += s;
        }
        if (group.Rank != 0) sums[1] = 0;   // replicated: identical on every rank, count rank 0's
        group.AllReduceSum(sums);
        return (float)Math.Sqrt(sums[0] + sums[1]);
    }
}
