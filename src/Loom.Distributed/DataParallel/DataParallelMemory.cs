namespace Loom.Distributed.DataParallel;

/// <summary>
/// Bytes one rank holds for the model states (ZeRO's accounting, §3.1: parameters, gradients, optimizer
/// states), persistent between steps, and the working memory a step needs on top.
/// </summary>
/// <param name="Parameters">Parameter bytes kept between steps (ZeRO-3: this rank's shard).</param>
/// <param name="Gradients">Gradient bytes kept for the update (ZeRO-2/3: this rank's reduced slice).</param>
/// <param name="OptimizerState">AdamW moment bytes (ZeRO-1/2/3: this rank's slice).</param>
/// <param name="PeakGatheredParameters">ZeRO-3: the most parameter bytes gathered at once (blocks in use plus the prefetched one); 0 otherwise.</param>
/// <param name="BackwardGradientBlock">The model's own gradient block, which its backward writes whole in every mode (working memory).</param>
/// <param name="Staging">Pack/unpack buffers of the block-wise collectives.</param>
public readonly record struct DataParallelMemory(long Parameters, long Gradients, long OptimizerState, long PeakGatheredParameters, long BackwardGradientBlock, long Staging)
{
    /// <summary>Parameters + gradients + optimizer state kept between steps.</summary>
    public long ModelStates => Parameters + Gradients + OptimizerState;
}
