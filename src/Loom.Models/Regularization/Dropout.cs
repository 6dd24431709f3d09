// Inverted dropout (Srivastava et al. 2014) with counter-based masks: element i of the mask for
// (seed, stream) is decided by SplitMix64(seed, stream, i), so a mask is regenerated bit for bit
// wherever it is needed again (activation checkpointing recomputes a block's forward) and never
// depends on the thread count. Kept elements are scaled by 1/(1−p), so eval needs no rescaling.
namespace Loom.Models.Regularization;

/// <summary>Dropout masks and their application.</summary>
public static class Dropout
{
    /// <summary>Fills <paramref name="mask"/> with 0 (dropped, probability p) or 1/(1−p) (kept).</summary>
    public static void FillMask(Span<float> mask, float p, ulong seed, ulong stream)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        float keep = 1f / (1f - p);
        // Compare 24 random bits against p·2²⁴ (exact for float p).
        uint threshold = (uint)Math.Round(p * (1 << 24));
        ulong basis = Mix(seed ^ Mix(stream + 0x9E3779B97F4A7C15UL));
        for (int i = 0; i < mask.Length; i++)
        {
            uint r = (uint)(Mix(basis + (ulong)i * 0x9E3779B97F4A7C15UL) >> 40);
            mask[i] = r < threshold ? 0f : keep;
        }
    }

    /// <summary>x ⊙= mask (forward) or dy ⊙= mask (backward: the same mask, the same scale).</summary>
    public static void Apply(Span<float> x, ReadOnlySpan<float> mask) =>
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, mask, x);

    /// <summary>destination = x ⊙ mask.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, Span<float> destination) =>
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, mask, destination);

    /// <summary>A stream id for (step, layer, site), distinct for every combination used by a model.</summary>
    public static ulong Stream(ulong step, int layer, int site) => step * 0x100000UL + (ulong)(layer + 1) * 16UL + (ulong)site;

    // SplitMix64's finaliser (Steele et al. 2014).
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
