// Magnitude pruning (Han et al. 2015, "Learning both Weights and Connections"), as the SparseGPT and
// Wanda papers use it as a baseline: per layer, zero the ⌊s·numel⌋ weights of smallest |W| (the
// reference prune_magnitude compares against a threshold with <=, which takes one more; Loom takes
// exactly ⌊s·numel⌋); for N:M, the N smallest |W| of each group of M inputs in a row.
namespace Loom.Compression.Pruning;

/// <summary>Zeroes the smallest weights by magnitude.</summary>
public static class MagnitudePruner
{
    /// <summary>Prunes the (rows = out, cols = in) matrix <paramref name="w"/> in place; returns the mask (true: removed).</summary>
    public static bool[] Prune(Span<double> w, int rows, int cols, SparsityPattern pattern)
    {
        var score = new double[w.Length];
        for (int i = 0; i < w.Length; i++) score[i] = Math.Abs(w[i]);
        var mask = new bool[w.Length];
        if (pattern.IsSemiStructured) PruningMasks.MarkNOfM(score, rows, cols, pattern.N, pattern.M, mask);
        else PruningMasks.MarkSmallest(score, (int)(pattern.Sparsity * w.Length), mask);
        for (int i = 0; i < w.Length; i++) if (mask[i]) w[i] = 0;
        return mask;
    }
}
