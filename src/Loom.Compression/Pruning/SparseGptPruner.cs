// SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately Pruned in
// One-Shot", Algorithm 1). For a layer with weight W (out × in) and calibration inputs X (in × tokens),
// it minimises ‖WX − ŴX‖² row by row with the Optimal Brain Surgeon update, sharing one inverse Hessian
// H⁻¹ = (2XXᵀ + λI)⁻¹ across rows:
//  - dampening λ = percdamp · mean(diag H) (1% by default, §4 "Hessian dampening"); inputs that never
//    fire (H_jj = 0) get H_jj = 1 and their weights are zeroed;
//  - the columns are processed left to right with the upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), whose
//    row j restricted to j.. equals row j of the inverse Hessian of the not-yet-pruned columns, scaled
//    by 1/U_jj (§3.4, "the Cholesky trick"): pruning w_j to q gives err = (w_j − q)/U_jj and the update
//    W[:, j:] −= err·U[j, j:];
//  - lazy batch updates (§3.4, from GPTQ): updates stay inside a block of B = 128 columns and the rest
//    of W gets them once per block as one product, W[:, i₂:] −= Err·U[i₁:i₂, i₂:];
//  - adaptive mask selection (§3.3): unstructured masks are chosen per block from the OBS saliency
//    w²/U_jj² of the *updated* block (the block's ⌊s·rows·B⌋ smallest), and an N:M mask per group of M
//    columns when the group's first column is reached.
// Read against the authors' reference (IST-DASLab/sparsegpt, sparsegpt.py fasterprune); Loom runs in
// double and takes exactly ⌊s·count⌋ weights per block where the reference's `<= threshold` takes one more.
namespace Loom.Compression.Pruning;

/// <summary>SparseGPT's one-shot pruning of one layer with weight reconstruction.</summary>
public static class SparseGptPruner
{
    /// <summary>
    /// Prunes the (rows = out, cols = in) matrix <paramref name="w"/> in place and updates the kept
    /// weights; <paramref name="hessian"/> is the (cols × cols) Σₜ xₜxₜᵀ up to a positive factor (it is
    /// copied, not changed). Returns the mask (true: removed).
    /// </summary>
    public static bool[] Prune(Span<double> w, int rows, int cols, ReadOnlySpan<double> hessian, SparsityPattern pattern, int blockSize = 128, double percDamp = 0.01)
    {
        if (hessian.Length != (long)cols * cols) throw new ArgumentException($"The Hessian has {hessian.Length} entries; {cols} columns need {cols}×{cols}.");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "The SparseGPT block size must be ≥ 1 (128 in the paper).");
        if (!(percDamp > 0)) throw new ArgumentOutOfRangeException(nameof(percDamp), percDamp, "The SparseGPT dampening must be > 0 (0.01 in the paper).");
        if (pattern.IsSemiStructured && blockSize % pattern.M != 0)
            throw new ArgumentException($"The SparseGPT block size {blockSize} must be a multiple of the pattern's M = {pattern.M}.");
        var h = hessian.ToArray();
        double meanDiag = 0;
        for (int j = 0; j < cols; j++)
        {
            if (h[j * cols + j] == 0)
            {
                h[j * cols + j] = 1;
                for (int r = 0; r < rows; r++) w[r * cols + j] = 0;
            }
            meanDiag += h[j * cols + j];
        }
        double damp = percDamp * meanDiag / cols;
        for (int j = 0; j < cols; j++) h[j * cols + j] += damp;
        var u = Cholesky.Upper(Cholesky.InverseFromLower(Cholesky.Lower(h, cols), cols), cols);

        var mask = new bool[w.Length];
        var w1 = new double[rows * blockSize];
        var err = new double[rows * blockSize];
        var score = new double[rows * blockSize];
        var blockMask = new bool[rows * blockSize];
        for (int i1 = 0; i1 < cols; i1 += blockSize)
        {
            int i2 = Math.Min(i1 + blockSize, cols), count = i2 - i1;
            for (int r = 0; r < rows; r++) w.Slice(r * cols + i1, count).CopyTo(w1.AsSpan(r * count, count));
            Array.Clear(blockMask);
            var bm = blockMask.AsSpan(0, rows * count);
            if (!pattern.IsSemiStructured)
            {
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < count; i++)
                    {
                        double d = u[(i1 + i) * cols + i1 + i], v = w1[r * count + i];
                        score[r * count + i] = v * v / (d * d);
                    }
                PruningMasks.MarkSmallest(score.AsSpan(0, rows * count), (int)(rows * count * pattern.Sparsity), bm);
            }
            for (int i = 0; i < count; i++)
            {
                int c = i1 + i;
                if (pattern.IsSemiStructured && i % pattern.M == 0)
                {
                    int m = Math.Min(pattern.M, count - i);
                    for (int r = 0; r < rows; r++)
                        for (int k = 0; k < m; k++)
                        {
                            double d = u[(c + k) * cols + c + k], v = w1[r * count + i + k];
                            score[r * count + i + k] = v * v / (d * d);
                        }
                    PruningMasks.MarkNOfM(score.AsSpan(0, rows * count), rows, count, pattern.N, pattern.M, bm, i, i + pattern.M);
                }
                double dd = u[c * cols + c];
                var urow = u.AsSpan(c * cols + c, count - i);
                for (int r = 0; r < rows; r++)
                {
                    var row = w1.AsSpan(r * count + i, count - i);
                    double wv = row[0], q = bm[r * count + i] ? 0 : wv, e = (wv - q) / dd;
                    err[r * count + i] = e;
                    if (e != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd<double>(urow, -e, row, row);
                    row[0] = q;
                }
            }
            for (int r = 0; r < rows; r++)
            {
                w1.AsSpan(r * count, count).CopyTo(w.Slice(r * cols + i1, count));
                bm.Slice(r * count, count).CopyTo(mask.AsSpan(r * cols + i1, count));
                // Lazy update of the columns right of the block: W[r, i₂:] −= Σ_k Err[r, k]·U[i₁+k, i₂:].
                if (i2 == cols) continue;
                var rest = w.Slice(r * cols + i2, cols - i2);
                for (int k = 0; k < count; k++)
                {
                    double e = err[r * count + k];
                    if (e != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd<double>(u.AsSpan((i1 + k) * cols + i2, cols - i2), -e, rest, rest);
                }
            }
        }
        return mask;
    }
}
