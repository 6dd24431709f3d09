// Cutting a full tensor into its tensor-parallel shard and putting the shards back together, by a
// TensorSplit (dimension d made of G equal groups; rank r takes the r-th of N chunks of each group).
// Row-major storage: a tensor is outer × dim × inner, so a shard is, for every outer index and every
// group, one contiguous run of (dim/G/N)·inner floats.
using Loom.Models.Parallel;

namespace Loom.Distributed.Tensor;

/// <summary>Slices and assembles tensor-parallel shards.</summary>
public static class TensorShards
{
    /// <summary>The shape of rank's shard of a tensor of <paramref name="shape"/>.</summary>
    public static long[] ShardShape(long[] shape, TensorSplit split, int size)
    {
        var (_, dim, _, chunk) = Geometry(shape, split, size, "tensor");
        var s = (long[])shape.Clone();
        s[split.Dimension] = dim / split.Groups / size * split.Groups;
        _ = chunk;
        return s;
    }

    /// <summary>Copies rank <paramref name="rank"/>'s shard of <paramref name="full"/> into <paramref name="shard"/>.</summary>
    public static void Slice(ReadOnlySpan<float> full, long[] shape, TensorSplit split, int rank, int size, Span<float> shard, string name = "tensor")
    {
        var (outer, dim, inner, chunk) = Geometry(shape, split, size, name);
        long groupLen = dim / split.Groups;
        if (full.Length != outer * dim * inner || shard.Length != outer * chunk * split.Groups * inner)
            throw new ArgumentException($"{name}: {full.Length} floats for shape [{string.Join(", ", shape)}] and a shard of {shard.Length}; they do not match the split.");
        int run = checked((int)(chunk * inner));
        int k = 0;
        for (long o = 0; o < outer; o++)
            for (int g = 0; g < split.Groups; g++)
            {
                long from = (o * dim + g * groupLen + rank * chunk) * inner;
                full.Slice(checked((int)from), run).CopyTo(shard.Slice(k, run));
                k += run;
            }
    }

    /// <summary>
    /// Writes rank <paramref name="rank"/>'s <paramref name="shard"/> into its place in
    /// <paramref name="full"/> (the inverse of <see cref="Slice"/>); call for every rank to assemble.
    /// </summary>
    public static void Place(ReadOnlySpan<float> shard, long[] shape, TensorSplit split, int rank, int size, Span<float> full, string name = "tensor")
    {
        var (outer, dim, inner, chunk) = Geometry(shape, split, size, name);
        long groupLen = dim / split.Groups;
        int run = checked((int)(chunk * inner));
        int k = 0;
        for (long o = 0; o < outer; o++)
            for (int g = 0; g < split.Groups; g++)
            {
                long to = (o * dim + g * groupLen + rank * chunk) * inner;
                shard.Slice(k, run).CopyTo(full.Slice(checked((int)to), run));
                k += run;
            }
    }

    private static (long Outer, long Dim, long Inner, long Chunk) Geometry(long[] shape, TensorSplit split, int size, string name)
    {
        if (split.Dimension < 0 || split.Dimension >= shape.Length)
            throw new ArgumentException($"{name}: split dimension {split.Dimension} of a {shape.Length}-dimensional tensor.");
        long outer = 1, inner = 1, dim = shape[split.Dimension];
        for (int i = 0; i < split.Dimension; i++) outer *= shape[i];
        for (int i = split.Dimension + 1; i < shape.Length; i++) inner *= shape[i];
        if (split.Groups < 1 || dim % ((long)split.Groups * size) != 0)
            throw new ArgumentException($"{name}: dimension {split.Dimension} of [{string.Join(", ", shape)}] ({dim}) does not split into {split.Groups} group(s) × {size} ranks; choose a tensor_parallel size that divides it.");
        return (outer, dim, inner, dim / split.Groups / size);
    }
}
