// How one parameter tensor is cut into tensor-parallel shards: along Dimension (row-major storage),
// which is made of Groups equal blocks (GPT-2's fused c_attn holds q | k | v, 3 groups); rank r takes
// the r-th of Size contiguous chunks of every group, concatenated in group order. A replicated
// tensor (LayerNorm, embeddings, the bias of a row-parallel projection) has no split.
namespace Loom.Models.Parallel;

/// <summary>A tensor's tensor-parallel split.</summary>
public sealed record TensorSplit(int Dimension, int Groups = 1);
