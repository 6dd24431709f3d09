// Which shard of a tensor-parallel group a model is (Megatron-LM, Shoeybi et al. 2019, §3): the
// model then holds 1/Size of every attention block's heads and every MLP's hidden units, with
// column-parallel input projections (QKV, c_fc / gate+up) and row-parallel output projections
// (attention and MLP c_proj / o_proj, down_proj). The model itself never communicates: the f and g
// operators of the paper (an all-reduce of the input gradient before a column-parallel projection,
// an all-reduce of the output after a row-parallel one) live in the projections that Loom.Distributed
// plugs in through ModelOptions.Projections, so set this only together with those projections
// (Loom.Distributed.Tensor.TensorParallelModels does both).
namespace Loom.Models.Parallel;

/// <summary>Rank <see cref="Rank"/> of a tensor-parallel group of <see cref="Size"/> ranks.</summary>
public sealed record TensorParallelShard(int Rank, int Size)
{
    /// <summary>Throws naming the config field when <paramref name="heads"/> or <paramref name="mlpWidth"/> do not split evenly.</summary>
    public void Validate(int heads, string headsField, int mlpWidth, string mlpField)
    {
        if (Size < 1 || Rank < 0 || Rank >= Size)
            throw new ArgumentException($"tensor_parallel: rank {Rank} of {Size} is not a valid shard; rank must be in [0, size).");
        if (heads % Size != 0)
            throw new ArgumentException($"tensor_parallel: {Size} does not divide {headsField} = {heads}; attention is split by heads, choose a tensor_parallel size that divides it.");
        if (mlpWidth % Size != 0)
            throw new ArgumentException($"tensor_parallel: {Size} does not divide the MLP width {mlpField} = {mlpWidth}; choose a tensor_parallel size that divides it.");
    }
}
