// What a model tells the projection hook about one weight matmul.
namespace Loom.Models.Projections;

/// <summary>
/// One weight matmul of a model: its module path as Hugging Face names it (<c>h.0.attn.c_attn</c>,
/// <c>model.layers.0.self_attn.q_proj</c>, <c>lm_head</c>), weight layout, sizes, and the indexes of
/// its weight and bias in the model's ParameterSet (bias −1 when it has none).
/// </summary>
public sealed record ProjectionSpec(string Path, ProjectionLayout Layout, int InFeatures, int OutFeatures, int WeightIndex, int BiasIndex = -1)
{
    /// <summary>True when the projection adds a bias.</summary>
    public bool HasBias => BiasIndex >= 0;
}
