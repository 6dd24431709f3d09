// The pruning criteria Loom implements, from the cheapest to the most accurate.
namespace Loom.Compression.Pruning;

/// <summary>How a pruner chooses (and, for SparseGPT, compensates) the weights it removes.</summary>
public enum PruningMethod
{
    /// <summary>Smallest |W| (per layer for unstructured, per group for N:M); needs no calibration.</summary>
    Magnitude,

    /// <summary>Smallest |W_ij|·‖X_j‖₂ within each output row (Sun et al. 2023, "A Simple and Effective Pruning Approach for LLMs").</summary>
    Wanda,

    /// <summary>Optimal Brain Surgeon column by column with the calibration Hessian 2XXᵀ, updating the remaining weights (Frantar &amp; Alistarh 2023).</summary>
    SparseGpt,
}
