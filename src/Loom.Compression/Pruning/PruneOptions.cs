// Settings of one pruning run, with the papers' defaults.
using Loom.Models.Projections;

namespace Loom.Compression.Pruning;

/// <summary>What to prune and how.</summary>
public sealed record PruneOptions
{
    /// <summary>The criterion (default SparseGPT).</summary>
    public PruningMethod Method { get; init; } = PruningMethod.SparseGpt;

    /// <summary>Unstructured fraction or N:M (default 50% unstructured, the papers' headline setting).</summary>
    public SparsityPattern Pattern { get; init; } = SparsityPattern.Unstructured(0.5);

    /// <summary>Calibration windows of n_positions tokens (the papers use 128 × 2048 tokens; default 64).</summary>
    public int Samples { get; init; } = 64;

    /// <summary>Windows per calibration forward pass (memory, not results).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>SparseGPT's lazy-update and mask-selection block B (128 in the paper).</summary>
    public int BlockSize { get; init; } = 128;

    /// <summary>SparseGPT's dampening λ as a fraction of mean(diag H) (0.01 in the paper).</summary>
    public double Dampening { get; init; } = 0.01;

    /// <summary>
    /// Which projections to prune (null: every projection inside a numbered transformer layer, as the
    /// reference implementations prune the decoder layers' linears and leave embeddings and the LM head).
    /// </summary>
    public Func<ProjectionSpec, bool>? Include { get; init; }

    /// <summary>Throws naming the option when a setting is out of range.</summary>
    public void Validate()
    {
        if (Samples < 1) throw new ArgumentOutOfRangeException(nameof(Samples), Samples, $"--samples must be ≥ 1 (calibration windows); got {Samples}.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"--batch-size must be ≥ 1; got {BatchSize}.");
        if (BlockSize < 1) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, $"--block-size must be ≥ 1 (SparseGPT's B, 128 in the paper); got {BlockSize}.");
        if (!(Dampening > 0 && Dampening < 1)) throw new ArgumentOutOfRangeException(nameof(Dampening), Dampening, $"--dampening must be in (0, 1) (a fraction of the Hessian's mean diagonal, 0.01 in the paper); got {Dampening}.");
        if (Pattern.IsSemiStructured && BlockSize % Pattern.M != 0)
            throw new ArgumentException($"--block-size {BlockSize} must be a multiple of the pattern's M = {Pattern.M}.");
    }
}
