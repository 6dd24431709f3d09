// Wanda (Sun, Liu, Bair & Kolter 2023, "A Simple and Effective Pruning Approach for Large Language
// Models", §3): the score of W_ij is |W_ij|·‖X_j‖₂, the weight times the norm of its input feature over
// the calibration tokens, compared within each output row (the paper's "per output" comparison group):
// each row loses its ⌊s·in⌋ lowest scores; N:M takes the N lowest of each group of M. No weight update.
namespace Loom.Compression.Pruning;

/// <summary>Zeroes weights by |W|·‖X‖ per output row.</summary>
public static class WandaPruner
{
    /// <summary>
    /// Prunes the (rows = out, cols = in) matrix <paramref name="w"/> in place given
    /// <paramref name="inputSquaredNorms"/>[j] = Σₜ X[t, j]² over the calibration tokens; returns the mask.
    /// </summary>
    public static bool[] Prune(Span<double> w, int rows, int cols, ReadOnlySpan<double> inputSquaredNorms, SparsityPattern pattern)
    {
        if (inputSquaredNorms.Length != cols)
            throw new ArgumentException($"Wanda needs one input norm per column: {cols} columns, {inputSquaredNorms.Length} norms.");
        var score = new double[w.Length];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) score[r * cols + j] = Math.Abs(w[r * cols + j]) * Math.Sqrt(inputSquaredNorms[j]);
        var mask = new bool[w.Length];
        if (pattern.IsSemiStructured) PruningMasks.MarkNOfM(score, rows, cols, pattern.N, pattern.M, mask);
        else
        {
            int k = (int)(cols * pattern.Sparsity);
            for (int r = 0; r < rows; r++)
                PruningMasks.MarkSmallest(score.AsSpan(r * cols, cols), k, mask.AsSpan(r * cols, cols));
        }
        for (int i = 0; i < w.Length; i++) if (mask[i]) w[i] = 0;
        return mask;
    }
}
