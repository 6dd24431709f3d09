// The NF4 dot product for rows whose block scales are held apart from the codes (double-quantized
// NF4: the caller decodes each block's absmax once per row). Same lookup as QuantizedDot.Nf4 — one
// vpermps over the 16 levels with AVX-512, two and a blend with AVX2 — on 32-byte code blocks:
//   Σ_b absmax_b · Σ_j level[q_bj]·x_bj
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels.Quantized;

internal static unsafe class Nf4DoubleQuantDot
{
    public static float Dot(byte* w, float* absmax, float* x, int blocks, QuantKernelPath path)
    {
        if (path != QuantKernelPath.Scalar && Avx2.IsSupported && Fma.IsSupported)
        {
            if (path == QuantKernelPath.Vnni && QuantKernelPaths.Nf4Avx512) return Avx512(w, absmax, x, blocks);
            return Avx2Path(w, absmax, x, blocks);
        }
        var levels = Nf4Blocks.Levels;
        float acc = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* q = w + 32 * b;
            float* xb = x + 64 * b;
            float s = 0;
            for (int j = 0; j < 32; j++) s += levels[q[j] & 0xF] * xb[j] + levels[q[j] >> 4] * xb[j + 32];
            acc += absmax[b] * s;
        }
        return acc;
    }

    private static float Avx512(byte* w, float* absmax, float* x, int blocks)
    {
        Vector512<float> table;
        fixed (float* t = Nf4Blocks.Levels) table = Vector512.Load(t);
        var acc = Vector512<float>.Zero;
        var mask = Vector512.Create(0xF);
        for (int b = 0; b < blocks; b++)
        {
            byte* q = w + 32 * b;
            float* xb = x + 64 * b;
            var s = Vector512<float>.Zero;
            for (int h = 0; h < 2; h++)
            {
                var codes = Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(q + 16 * h));
                var lo = Avx512F.PermuteVar16x32(table, Avx512F.And(codes, mask));
                var hi = Avx512F.PermuteVar16x32(table, Avx512F.ShiftRightLogical(codes, 4));
                s = Avx512F.FusedMultiplyAdd(lo, Avx512F.LoadVector512(xb + 16 * h), s);
                s = Avx512F.FusedMultiplyAdd(hi, Avx512F.LoadVector512(xb + 32 + 16 * h), s);
            }
            acc = Avx512F.FusedMultiplyAdd(s, Vector512.Create(absmax[b]), acc);
        }
        return Vector512.Sum(acc);
    }

    private static float Avx2Path(byte* w, float* absmax, float* x, int blocks)
    {
        Vector256<float> t0, t1;
        fixed (float* t = Nf4Blocks.Levels) { t0 = Avx.LoadVector256(t); t1 = Avx.LoadVector256(t + 8); }
        var acc = Vector256<float>.Zero;
        var mask = Vector256.Create(0xF);
        var eight = Vector256.Create(8);
        for (int b = 0; b < blocks; b++)
        {
            byte* q = w + 32 * b;
            float* xb = x + 64 * b;
            var s = Vector256<float>.Zero;
            for (int k = 0; k < 4; k++)
            {
                var codes = Avx2.ConvertToVector256Int32(q + 8 * k);
                var lo = Avx2.And(codes, mask);
                var hi = Avx2.ShiftRightLogical(codes, 4);
                var vlo = Avx.BlendVariable(Avx2.PermuteVar8x32(t0, lo), Avx2.PermuteVar8x32(t1, lo), Avx2.CompareGreaterThan(eight, lo).AsSingle() ^ Vector256<float>.AllBitsSet);
                var vhi = Avx.BlendVariable(Avx2.PermuteVar8x32(t0, hi), Avx2.PermuteVar8x32(t1, hi), Avx2.CompareGreaterThan(eight, hi).AsSingle() ^ Vector256<float>.AllBitsSet);
                s = Fma.MultiplyAdd(vlo, Avx.LoadVector256(xb + 8 * k), s);
                s = Fma.MultiplyAdd(vhi, Avx.LoadVector256(xb + 32 + 8 * k), s);
            }
            acc = Fma.MultiplyAdd(s, Vector256.Create(absmax[b]), acc);
        }
        return Vector256.Sum(acc);
    }
}
