// The hook that chooses each weight's projection when a model is built.
namespace Loom.Models.Projections;

/// <summary>
/// Returns the projection for one weight matmul. Return <c>context.CreateDense()</c> to keep the
/// default, or a wrapper around it (LoRA) or a replacement (quantized) chosen by <c>context.Spec.Path</c>.
/// </summary>
public delegate IProjection ProjectionFactory(ProjectionContext context);
