// How a model is built, the same for every family: which parameters train, and which projection
// each weight matmul gets. Defaults build the plain trainable model of earlier releases.
using Loom.Models.Projections;

namespace Loom.Models;

/// <summary>Build-time choices shared by every model family.</summary>
public sealed record ModelOptions
{
    /// <summary>The plain trainable model: every parameter trainable, dense projections.</summary>
    public static ModelOptions Default { get; } = new();

    /// <summary>For inference (generate, eval, classify): every parameter frozen, so no gradient block is allocated.</summary>
    public static ModelOptions Inference { get; } = new() { Trainable = static _ => false };

    /// <summary>Given a parameter's Hugging Face name, whether it trains (null: all do). Frozen parameters get no gradient.</summary>
    public Func<string, bool>? Trainable { get; init; }

    /// <summary>Chooses each weight matmul's projection by its module path (null: dense f32 everywhere).</summary>
    public ProjectionFactory? Projections { get; init; }

    /// <summary>Dropout probabilities and seed (off by default); masks are drawn only in training mode (<see cref="ITrainingMode"/>).</summary>
    public Regularization.DropoutOptions Dropout { get; init; } = new();

    /// <summary>
    /// Tensors a head built on top of the body adds to the body's ParameterSet (name, shape, weight
    /// decay), so body and head share one value block and one gradient block: a sequence classifier's
    /// <c>score.weight</c>, <c>classifier.weight</c>/<c>classifier.bias</c>. Empty by default.
    /// </summary>
    public IReadOnlyList<(string Name, long[] Shape, bool WeightDecay)> HeadParameters { get; init; } = [];

    /// <summary>
    /// The model is built as a body read through <see cref="IHiddenStateModel.ForwardHidden"/> (a
    /// sequence classifier's): it has no language-model head — no untied head tensors (Llama's
    /// lm_head, BERT's cls.predictions), no head projection — and its activation plans hold no
    /// (B, T, V) logits. Its LM Forward/Backward then throw. False by default.
    /// </summary>
    public bool HiddenStatesOnly { get; init; }

    /// <summary>
    /// The tensor-parallel shard this model is (Megatron-LM): it holds 1/Size of the heads and MLP
    /// units, and its column/row-parallel projections must come from <see cref="Projections"/>
    /// (Loom.Distributed sets both). Null (default): the whole model.
    /// </summary>
    public Parallel.TensorParallelShard? TensorParallel { get; init; }

    /// <summary>
    /// The pipeline stage this model is (GPipe): only its layers, the embeddings on the first stage,
    /// the final norm and head on the last; the model then implements <see cref="Parallel.IPipelineStageModel"/>.
    /// Null (default): every layer.
    /// </summary>
    public Parallel.PipelineStage? Stage { get; init; }

    internal IProjection Project(ProjectionSpec spec, Parameters.ParameterSet parameters, Loom.Core.Threading.WorkerPool pool)
    {
        var context = new ProjectionContext(spec, parameters, pool);
        return Projections?.Invoke(context) ?? context.CreateDense();
    }
}
