// Which part of the layer stack a model holds in a pipeline (GPipe, Huang et al. 2019): layers
// [FirstLayer, FirstLayer + LayerCount) of the config's n_layer. The first stage also holds the
// embeddings, the last the final norm and the LM head (a tied head keeps its copy of the word
// embeddings there, as Megatron-LM does, whose gradient the pipeline sums with the first stage's).
namespace Loom.Models.Parallel;

/// <summary>Layers [<see cref="FirstLayer"/>, <see cref="FirstLayer"/> + <see cref="LayerCount"/>) of <see cref="TotalLayers"/>.</summary>
public sealed record PipelineStage(int FirstLayer, int LayerCount, int TotalLayers)
{
    /// <summary>The stage starts at the token embeddings.</summary>
    public bool IsFirst => FirstLayer == 0;

    /// <summary>The stage ends with the final norm and the head.</summary>
    public bool IsLast => FirstLayer + LayerCount == TotalLayers;

    /// <summary>Throws naming the field when the range is not inside <paramref name="layers"/> (n_layer).</summary>
    public void Validate(int layers, string layersField)
    {
        if (TotalLayers != layers)
            throw new ArgumentException($"pipeline stage: it was cut from {TotalLayers} layers but {layersField} = {layers}.");
        if (FirstLayer < 0 || LayerCount < 1 || FirstLayer + LayerCount > layers)
            throw new ArgumentException($"pipeline stage: layers [{FirstLayer}, {FirstLayer + LayerCount}) are not inside {layersField} = {layers}; every stage needs at least one layer.");
    }

    /// <summary>
    /// Splits <paramref name="layers"/> into <paramref name="stages"/> contiguous stages as evenly as
    /// possible (the first ones get one more layer when it does not divide).
    /// </summary>
    public static PipelineStage[] Split(int layers, int stages)
    {
        if (stages < 1 || stages > layers)
            throw new ArgumentException($"pipeline_parallel: {stages} stages cannot split n_layer = {layers}; each stage needs at least one layer (1 ≤ pipeline_parallel ≤ n_layer).");
        var result = new PipelineStage[stages];
        int first = 0;
        for (int s = 0; s < stages; s++)
        {
            int count = layers / stages + (s < layers % stages ? 1 : 0);
            result[s] = new PipelineStage(first, count, layers);
            first += count;
        }
        return result;
    }
}
