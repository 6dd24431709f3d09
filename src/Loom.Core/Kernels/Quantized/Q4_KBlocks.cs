// ggml block_q4_K (ggml-common.h): { ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qs[128]; }
// = 144 bytes for 256 weights in 8 sub-blocks of 32. Sub-block j has a 6-bit scale sc_j and 6-bit
// min m_j packed into scales[12] (get_scale_min_k4): j < 4 → sc = s[j] & 63, m = s[j+4] & 63;
// j ≥ 4 → sc = (s[j+4] & 15) | (s[j−4] >> 6) << 4, m = (s[j+4] >> 4) | (s[j] >> 6) << 4.
// w = d·sc_j·q − dmin·m_j with q a nibble; qs is 4 groups of 32 bytes, group g holding sub-block 2g
// in the low nibbles and 2g+1 in the high nibbles.
// Quantization is quantize_row_q4_K_ref: per sub-block make_qkx2_quants (a weighted least-squares
// search over 21 candidate scales, weights av_x + |x|), then scales and mins quantized to 6 bits
// against the block maxima, then every weight re-rounded against its final fp16-derived scale.
namespace Loom.Core.Kernels.Quantized;

internal static class Q4_KBlocks
{
    public const int Size = 256, Bytes = 144;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<byte> L = stackalloc byte[Size];
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        for (int b = 0; b < x.Length / Size; b++)
        {
            var xs = x.Slice(b * Size, Size);
            var blk = y.Slice(b * Bytes, Bytes);
            blk.Clear();
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                var xj = xs.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += xj[l] * xj[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xj[l]);
                scales[j] = MakeQkx2Quants(15, xj, weights, L.Slice(32 * j, 32), out mins[j], laux, -1f, 0.1f, 20);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            var s = blk.Slice(4, 12);
            for (int j = 0; j < 8; j++)
            {
                byte ls = (byte)Math.Min((byte)63, (byte)QuantMath.NearestInt(invScale * scales[j]));
                byte lm = (byte)Math.Min((byte)63, (byte)QuantMath.NearestInt(invMin * mins[j]));
                if (j < 4) { s[j] = ls; s[j + 4] = lm; }
                else
                {
                    s[j + 4] = (byte)((ls & 0xF) | (lm & 0xF) << 4);
                    s[j - 4] |= (byte)(ls >> 4 << 6);
                    s[j] |= (byte)(lm >> 4 << 6);
                }
            }
            QuantMath.WriteHalf(blk, 0, maxScale / 63f);
            QuantMath.WriteHalf(blk, 2, maxMin / 63f);
            float d0 = QuantMath.ReadHalf(blk, 0), dmin0 = QuantMath.ReadHalf(blk, 2);
            for (int j = 0; j < 8; j++)
            {
                ScaleMin(j, s, out int sc, out int m);
                float d = d0 * sc;
                if (d == 0) continue;
                float dm = dmin0 * m;
                for (int ii = 0; ii < 32; ii++)
                    L[32 * j + ii] = (byte)Math.Clamp(QuantMath.NearestInt((xs[32 * j + ii] + dm) / d), 0, 15);
            }
            var q = blk.Slice(16, 128);
            for (int g = 0; g < 4; g++)
                for (int l = 0; l < 32; l++)
                    q[32 * g + l] = (byte)(L[64 * g + l] | L[64 * g + l + 32] << 4);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int b = 0; b < y.Length / Size; b++)
        {
            var blk = x.Slice(b * Bytes, Bytes);
            float d = QuantMath.ReadHalf(blk, 0), dmin = QuantMath.ReadHalf(blk, 2);
            var s = blk.Slice(4, 12);
            var q = blk.Slice(16, 128);
            var o = y.Slice(b * Size, Size);
            for (int g = 0; g < 4; g++)
            {
                ScaleMin(2 * g, s, out int sc1, out int m1);
                ScaleMin(2 * g + 1, s, out int sc2, out int m2);
                float d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2;
                for (int l = 0; l < 32; l++)
                {
                    o[64 * g + l] = d1 * (q[32 * g + l] & 0xF) - mm1;
                    o[64 * g + 32 + l] = d2 * (q[32 * g + l] >> 4) - mm2;
                }
            }
        }
    }

    /// <summary>get_scale_min_k4: the 6-bit scale and min of sub-block <paramref name="j"/>.</summary>
    public static void ScaleMin(int j, ReadOnlySpan<byte> s, out int sc, out int m)
    {
        if (j < 4) { sc = s[j] & 63; m = s[j + 4] & 63; }
        else
        {
            sc = (s[j + 4] & 0xF) | (s[j - 4] >> 6) << 4;
            m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
        }
    }

    // make_qkx2_quants (ggml-quants.c) with use_mad = false: returns the scale, sets theMin to −min.
    private static float MakeQkx2Quants(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> L,
        out float theMin, Span<byte> laux, float rmin, float rdelta, int nstep)
    {
        int n = x.Length;
        float min = x[0], max = x[0];
        float sumW = weights[0], sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            L.Slice(0, n).Clear();
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; i++)
        {
            int l = QuantMath.NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * L[i] + min - x[i];
            bestMad += weights[i] * (diff * diff);
        }
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = QuantMath.NearestInt(iscale * (x[i] - min));
                l = Math.Max(0, Math.Min(nmax, l));
                laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    mad += weights[i] * (diff * diff);
                }
                if (mad < bestMad)
                {
                    laux.Slice(0, n).CopyTo(L);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }
}
