// Pruners work on a projection's weight as (out, in): one row per output, so "along the input
// dimension" (N:M groups, Wanda's per-row comparison, SparseGPT's columns) is along a row. GPT-2's
// Conv1D stores (in, out); these helpers transpose into and out of the (out, in) view.
using Loom.Models.Projections;

namespace Loom.Compression.Pruning;

/// <summary>Copies between a projection's stored weight and its (out, in) row-major view.</summary>
public static class WeightMatrix
{
    /// <summary>The (out, in) view of <paramref name="stored"/>, in double.</summary>
    public static double[] ToOutIn(ReadOnlySpan<float> stored, ProjectionSpec spec)
    {
        int o = spec.OutFeatures, n = spec.InFeatures;
        var w = new double[(long)o * n];
        if (spec.Layout == ProjectionLayout.OutIn)
            for (int i = 0; i < w.Length; i++) w[i] = stored[i];
        else
            for (int j = 0; j < n; j++)
                for (int r = 0; r < o; r++) w[(long)r * n + j] = stored[j * o + r];
        return w;
    }

    /// <summary>Writes the (out, in) <paramref name="w"/> back in the stored layout.</summary>
    public static void FromOutIn(ReadOnlySpan<double> w, ProjectionSpec spec, Span<float> stored)
    {
        int o = spec.OutFeatures, n = spec.InFeatures;
        if (spec.Layout == ProjectionLayout.OutIn)
            for (int i = 0; i < w.Length; i++) stored[i] = (float)w[i];
        else
            for (int j = 0; j < n; j++)
                for (int r = 0; r < o; r++) stored[j * o + r] = (float)w[r * n + j];
    }
}
