// What a projection factory receives for one weight: the spec, the model's parameters and pool,
// and the default dense projection to return or wrap.
using Loom.Core.Threading;
using Loom.Models.Parameters;

namespace Loom.Models.Projections;

/// <summary>The hook's view of one weight matmul while a model is being built.</summary>
public sealed class ProjectionContext
{
    internal ProjectionContext(ProjectionSpec spec, ParameterSet parameters, WorkerPool pool)
    {
        Spec = spec;
        Parameters = parameters;
        Pool = pool;
    }

    /// <summary>Path, layout, sizes and parameter indexes.</summary>
    public ProjectionSpec Spec { get; }

    /// <summary>The model's parameters (values, gradients, roles).</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The model's worker pool.</summary>
    public WorkerPool Pool { get; }

    /// <summary>The dense f32 projection the model uses when the hook does not replace it.</summary>
    public IProjection CreateDense() => new DenseProjection(Spec, Parameters, Pool);
}
