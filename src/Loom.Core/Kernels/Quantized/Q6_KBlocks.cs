// ggml block_q6_K (ggml-common.h): { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d; }
// = 210 bytes for 256 weights in 16 sub-blocks of 16; w = d·scales[j]·(q − 32) with q 6 bits.
// Each half of 128 weights uses 64 bytes of ql and 32 of qh: for l in 0..31,
//   q[l]    = ql[l]    & 15 | (qh[l] >> 0 & 3) << 4      q[l+64] = ql[l]    >> 4 | (qh[l] >> 4 & 3) << 4
//   q[l+32] = ql[l+32] & 15 | (qh[l] >> 2 & 3) << 4      q[l+96] = ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4
// Quantization is quantize_row_q6_K_ref: make_qx_quants(16, 32, rmse_type 1) per sub-block (a search
// over 19 scales weighted by x²), int8 scales against the block's largest, then re-rounding.
namespace Loom.Core.Kernels.Quantized;

internal static class Q6_KBlocks
{
    public const int Size = 256, Bytes = 210;
    private const float GroupMaxEps = 1e-15f;   // ggml-quants.c GROUP_MAX_EPS

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<sbyte> L = stackalloc sbyte[Size];
        Span<float> scales = stackalloc float[16];
        for (int b = 0; b < x.Length / Size; b++)
        {
            var xs = x.Slice(b * Size, Size);
            var blk = y.Slice(b * Bytes, Bytes);
            blk.Clear();
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                float scale = MakeQxQuants(32, xs.Slice(16 * ib, 16), L.Slice(16 * ib, 16));
                scales[ib] = scale;
                if (MathF.Abs(scale) > maxAbsScale) { maxAbsScale = MathF.Abs(scale); maxScale = scale; }
            }
            if (maxAbsScale < GroupMaxEps) continue;   // all-zero block: d = 0, every byte 0
            float iscale = -128f / maxScale;
            QuantMath.WriteHalf(blk, 208, 1 / iscale);
            var sc = blk.Slice(192, 16);
            for (int ib = 0; ib < 16; ib++) sc[ib] = (byte)(sbyte)Math.Min(127, QuantMath.NearestInt(iscale * scales[ib]));
            float d0 = QuantMath.ReadHalf(blk, 208);
            for (int j = 0; j < 16; j++)
            {
                float d = d0 * (sbyte)sc[j];
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++)
                    L[16 * j + ii] = (sbyte)(Math.Clamp(QuantMath.NearestInt(xs[16 * j + ii] / d), -32, 31) + 32);
            }
            var ql = blk.Slice(0, 128);
            var qh = blk.Slice(128, 64);
            for (int h = 0; h < 2; h++)
            {
                int j = 128 * h;
                for (int l = 0; l < 32; l++)
                {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    ql[64 * h + l] = (byte)(q1 | q3 << 4);
                    ql[64 * h + l + 32] = (byte)(q2 | q4 << 4);
                    qh[32 * h + l] = (byte)((L[j + l] >> 4) | (L[j + l + 32] >> 4) << 2 | (L[j + l + 64] >> 4) << 4 | (L[j + l + 96] >> 4) << 6);
                }
            }
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int b = 0; b < y.Length / Size; b++)
        {
            var blk = x.Slice(b * Bytes, Bytes);
            float d = QuantMath.ReadHalf(blk, 208);
            var o = y.Slice(b * Size, Size);
            for (int h = 0; h < 2; h++)
            {
                var ql = blk.Slice(64 * h, 64);
                var qh = blk.Slice(128 + 32 * h, 32);
                var sc = blk.Slice(192 + 8 * h, 8);
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0xF) | (qh[l] & 3) << 4) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (qh[l] >> 2 & 3) << 4) - 32;
                    int q3 = ((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32;
                    o[128 * h + l] = d * (sbyte)sc[s] * q1;
                    o[128 * h + l + 32] = d * (sbyte)sc[s + 2] * q2;
                    o[128 * h + l + 64] = d * (sbyte)sc[s + 4] * q3;
                    o[128 * h + l + 96] = d * (sbyte)sc[s + 6] * q4;
                }
            }
        }
    }

    // make_qx_quants (ggml-quants.c) with rmse_type = 1 and no importance weights (w = x²); L gets l + nmax.
    private static float MakeQxQuants(int nmax, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            L.Slice(0, n).Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = QuantMath.NearestInt(iscale * x[i]);
            l = Math.Max(-nmax, Math.Min(nmax - 1, l));
            L[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = QuantMath.NearestInt(iscale * x[i]);
                l = Math.Max(-nmax, Math.Min(nmax - 1, l));
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; i++)
                {
                    int l = QuantMath.NearestInt(iscale * x[i]);
                    L[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, l)));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }
}
