// SpQR-style outliers (Dettmers et al., 2023, "SpQR", §4.1): keep in 16 bits the weights whose
// quantization most changes the layer's output, and quantize the rest.
//
// Saliency. SpQR scores a weight by the output error of quantizing it after GPTQ's OBS compensation,
// w_err²/[H⁻¹]_jj. Loom's quantizers round each weight to nearest with no compensation (ggml's
// reference quantizers, NF4), so the error a single rounding adds to the layer output over the
// calibration tokens is exactly δ_ij²·H_jj = (w_ij − q(w_ij))²·‖X_j‖² (H = XᵀX; only its diagonal
// matters when no other weight moves). That is the proxy implemented: it is the exact first-order
// term for round-to-nearest, needs only the per-input sums of squares the Wanda recorder collects,
// and ranks the same weights SpQR's score would rank if H were diagonal. Without calibration the
// norms are 1 (plain weight error).
//
// Procedure: quantize W, score every weight, take the ⌊fraction·n⌋ highest (ties to the lower flat
// index), zero them and quantize again — outliers are excluded from their blocks, so the remaining
// weights' block scales shrink (SpQR §4.1) — then store each outlier as the fp16 correction
// w_ij − dequant(Q(W'))_ij, which makes the stored weight w_ij up to fp16 rounding for any format.
using Loom.Core.Kernels.Quantized;

namespace Loom.Compression.Quantization;

/// <summary>Chooses SpQR outliers and builds the quantized weight that keeps them.</summary>
public static class SpqrOutliers
{
    /// <summary>
    /// Quantizes the row-major (rows × columns) <paramref name="weights"/> with <paramref name="quantize"/>,
    /// keeping the <paramref name="fraction"/> most salient as fp16 outliers; <paramref name="inputSquaredNorms"/>
    /// are ‖X_j‖² per input (empty: all 1). A fraction of 0 returns <paramref name="quantize"/>'s weight unchanged.
    /// </summary>
    public static IQuantizedWeight Quantize(ReadOnlySpan<float> weights, int rows, int columns, Func<float[], IQuantizedWeight> quantize,
        ReadOnlySpan<double> inputSquaredNorms, double fraction)
    {
        ArgumentNullException.ThrowIfNull(quantize);
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The outlier fraction must be in [0, 1), e.g. 0.01.");
        if (weights.Length != (long)rows * columns) throw new ArgumentException($"weights has {weights.Length} elements; a ({rows}, {columns}) matrix needs {(long)rows * columns}.");
        if (!inputSquaredNorms.IsEmpty && inputSquaredNorms.Length != columns) throw new ArgumentException($"{inputSquaredNorms.Length} input norms for a weight with {columns} inputs.");
        var w = weights.ToArray();
        var first = quantize(w);
        int k = (int)Math.Floor(fraction * w.Length);
        if (k == 0) return first;
        var deq = new float[w.Length];
        try { first.DequantizeRows(0, rows, deq); }
        finally { first.Dispose(); }

        var saliency = new double[w.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                long f = (long)i * columns + j;
                double d = w[f] - deq[f];
                saliency[f] = d * d * (inputSquaredNorms.IsEmpty ? 1.0 : inputSquaredNorms[j]);
            }
        var order = new int[w.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => saliency[a] != saliency[b] ? saliency[b].CompareTo(saliency[a]) : a.CompareTo(b));
        var chosen = order.AsSpan(0, k).ToArray();
        Array.Sort(chosen);   // row-major order: CSR rows with ascending columns

        var kept = (float[])w.Clone();
        foreach (int f in chosen) kept[f] = 0;
        var second = quantize(kept);
        try
        {
            second.DequantizeRows(0, rows, deq);
            var rowStarts = new int[rows + 1];
            var cols = new ushort[k];
            var values = new Half[k];
            for (int e = 0; e < k; e++)
            {
                int f = chosen[e];
                rowStarts[f / columns + 1]++;
                cols[e] = (ushort)(f % columns);
                values[e] = (Half)(w[f] - deq[f]);
            }
            for (int i = 0; i < rows; i++) rowStarts[i + 1] += rowStarts[i];
            return new OutlierMatrix(second, rowStarts, cols, values);
        }
        catch
        {
            second.Dispose();
            throw;
        }
    }
}
