// SpQR-style outliers (Dettmers et al., 2023, "SpQR", §4.1): keep in 16 bits the weights whose
// quantization most changes the layer's output, and quantize the rest.
//
// Saliency. SpQR scores a weight by the output error its quantization causes, measured leave-one-out:
// how much the error of its group falls when the weight is taken out of the group's statistics and
// kept exactly (SpQR §4.1, "get_leave_one_out_error"), with errors weighed by the calibration
// Hessian. Loom's quantizers round to nearest with no GPTQ compensation (ggml's reference
// quantizers, NF4), so the output error of a perturbation δ of one input column over the calibration
// tokens is δ²·H_jj = δ²·‖X_j‖² (H = XᵀX; the diagonal is exact when nothing compensates), and the
// leave-one-out score of weight (i, j) in block B is
//   s_ij = Σ_{k∈B} (w_ik − q(w_ik))²·‖X_k‖²  −  Σ_{k∈B, k≠j} (w_ik − q_{−j}(w_ik))²·‖X_k‖²
// where q_{−j} quantizes the block with w_ij zeroed. Taking a weight out changes the block's scale
// (and q4_k's min) only when it is the block's largest or smallest value, so q_{−j} is computed for
// those two; every other weight's score is its own weighted error. This catches both kinds of
// outlier: the large weight that is itself exact (it is the block's absmax) but crushes its
// neighbours' resolution, and the weight in a high-norm input channel whose rounding is amplified.
// Without calibration the norms are 1.
//
// Procedure: in 4 rounds, score every weight with the outliers found so far zeroed and take the next
// quarter of the ⌊fraction·n⌋ highest (ties to the lower flat index); then quantize the matrix with them zeroed — outliers leave their blocks, so the block scales shrink — then store
// each outlier as the fp16 correction w_ij − dequant(Q(W'))_ij, which makes the stored weight w_ij up
// to fp16 rounding for any format.
using Loom.Core.Kernels.Quantized;

namespace Loom.Compression.Quantization;

/// <summary>Chooses SpQR outliers and builds the quantized weight that keeps them.</summary>
public static class SpqrOutliers
{
    /// <summary>Selection rounds: each re-scores with the outliers chosen so far taken out.</summary>
    public const int Rounds = 4;

    /// <summary>
    /// Quantizes the row-major (rows × columns) <paramref name="weights"/> with <paramref name="quantize"/>,
    /// keeping the <paramref name="fraction"/> most salient as fp16 outliers; <paramref name="inputSquaredNorms"/>
    /// are ‖X_j‖² per input (empty: all 1). A fraction of 0 returns <paramref name="quantize"/>'s weight unchanged.
    /// </summary>
    /// <remarks><paramref name="format"/> is the block format <paramref name="quantize"/> uses (nf4 for double-quantized NF4), for the per-block leave-one-out scores.</remarks>
    public static IQuantizedWeight Quantize(ReadOnlySpan<float> weights, int rows, int columns, QuantFormat format, Func<float[], IQuantizedWeight> quantize,
        ReadOnlySpan<double> inputSquaredNorms, double fraction)
    {
        ArgumentNullException.ThrowIfNull(quantize);
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The outlier fraction must be in [0, 1), e.g. 0.01.");
        if (weights.Length != (long)rows * columns) throw new ArgumentException($"weights has {weights.Length} elements; a ({rows}, {columns}) matrix needs {(long)rows * columns}.");
        if (!inputSquaredNorms.IsEmpty && inputSquaredNorms.Length != columns) throw new ArgumentException($"{inputSquaredNorms.Length} input norms for a weight with {columns} inputs.");
        var w = weights.ToArray();
        int k = (int)Math.Floor(fraction * w.Length);
        if (k == 0) return quantize(w);
        // In Rounds rounds: score with the outliers chosen so far taken out (zeroed), add the next share.
        // One shot would also spend outliers on the neighbours of a large weight, whose error vanishes
        // once that weight leaves the block (SpQR re-fits its groups as outliers are found).
        var deq = new float[w.Length];
        var kept = (float[])w.Clone();
        var isChosen = new bool[w.Length];
        var order = new int[w.Length];
        int taken = 0;
        for (int round = 1; round <= Rounds; round++)
        {
            int want = (int)((long)k * round / Rounds) - taken;
            if (want <= 0) continue;
            var saliency = Saliency(kept, rows, columns, format, inputSquaredNorms);
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(order, (a, b) => isChosen[a] != isChosen[b] ? isChosen[a].CompareTo(isChosen[b])
                : saliency[a] != saliency[b] ? saliency[b].CompareTo(saliency[a]) : a.CompareTo(b));
            for (int e = 0; e < want; e++) { isChosen[order[e]] = true; kept[order[e]] = 0; }
            taken += want;
        }
        var chosen = new int[k];
        for (int f = 0, e = 0; f < w.Length; f++) if (isChosen[f]) chosen[e++] = f;   // row-major: CSR rows, ascending columns

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

    /// <summary>The leave-one-out score of every weight (row-major, as <paramref name="w"/>); see the file comment.</summary>
    public static double[] Saliency(ReadOnlySpan<float> w, int rows, int columns, QuantFormat format, ReadOnlySpan<double> inputSquaredNorms)
    {
        int bs = QuantFormatInfo.BlockSize(format);
        if (columns % bs != 0) throw new ArgumentException($"{columns} inputs is not a multiple of {QuantFormatInfo.Name(format)}'s block of {bs}.");
        var s = new double[w.Length];
        var bytes = new byte[QuantFormatInfo.BlockBytes(format)];
        var deq = new float[bs];
        var tmp = new float[bs];
        double[]? norms = inputSquaredNorms.IsEmpty ? null : inputSquaredNorms.ToArray();
        double Norm(int j) => norms is null ? 1.0 : norms[j];
        for (int i = 0; i < rows; i++)
            for (int c0 = 0; c0 < columns; c0 += bs)
            {
                var xs = w.Slice(i * columns + c0, bs);
                BlockQuantizer.Quantize(format, xs, bytes);
                BlockQuantizer.Dequantize(format, bytes, deq);
                double total = 0;
                int hi = 0, lo = 0;
                for (int j = 0; j < bs; j++)
                {
                    double d = xs[j] - deq[j];
                    double e = d * d * Norm(c0 + j);
                    s[i * columns + c0 + j] = e;
                    total += e;
                    if (xs[j] > xs[hi]) hi = j;
                    if (xs[j] < xs[lo]) lo = j;
                }
                foreach (int c in hi == lo ? new[] { hi } : new[] { hi, lo })
                {
                    xs.CopyTo(tmp);
                    tmp[c] = 0;
                    BlockQuantizer.Quantize(format, tmp, bytes);
                    BlockQuantizer.Dequantize(format, bytes, deq);
                    double rest = 0;
                    for (int j = 0; j < bs; j++)
                        if (j != c) { double d = xs[j] - deq[j]; rest += d * d * Norm(c0 + j); }
                    s[i * columns + c0 + c] = Math.Max(s[i * columns + c0 + c], total - rest);
                }
            }
        return s;
    }
}
