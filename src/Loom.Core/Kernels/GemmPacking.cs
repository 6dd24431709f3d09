// Packing of GEMM operands into the micro-panels the micro-kernels read (BLIS layout):
//   A: op(A)[ic:ic+mc, pc:pc+kc] as MR-row panels; panel r holds, for each p, the MR values
//      op(A)[r·MR + 0..MR-1, p] consecutively. Rows past mc are zero.
//   B: op(B)[pc:pc+kc, jc:jc+nc] as NR-column panels; panel j holds, for each p, the NR values
//      op(B)[p, j·NR + 0..NR-1] consecutively. Columns past nc are zero.
// The transposing cases (A stored row-major, B stored transposed) go through 8-wide AVX
// transposes on full panels; the rest is a plain copy. Packing is O(mk + kn) per block against
// the O(mnk) multiply, but at 175 GFLOP/s a scalar strided pack of A costs ~10%, hence the SIMD.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels;

internal static unsafe class GemmPacking
{
    // AggressiveOptimization on the packing loops (as on the micro-kernels): under tiered
    // compilation they would start as unoptimised tier-0 code, where each Vector256 intrinsic is
    // a call, and stay there until the tier-1 rejit — measured on 48 attention products of
    // 64×64×64: 27 GFLOP/s (NT) with tiering against 109 with optimised packing from the first call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(int MR, Transpose ta, float* a, int lda, int ic, int pc, int mc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (ta == Transpose.No)
            {
                // Groups of 4 rows × 8 k: a 4×8 transpose gives, for each k, 4 consecutive values.
                // Also on an edge panel's whole groups (attention's 64 = 5·12 + 4 rows), where a
                // scalar copy of the 4 rows cost as much as packing the other 60.
                int g4 = MR % 4 == 0 && Avx.IsSupported ? mr / 4 * 4 : 0;
                int p = 0;
                if (g4 > 0)
                {
                    for (; p + 8 <= kc; p += 8)
                        for (int g = 0; g < g4; g += 4)
                            Transpose4x8(a + (long)(ic + ir + g) * lda + pc + p, lda, panel + p * MR + g, MR);
                }
                for (int r = 0; r < MR; r++)
                {
                    if (r < mr)
                    {
                        float* src = a + (long)(ic + ir + r) * lda + pc;
                        for (int q = r < g4 ? p : 0; q < kc; q++) panel[q * MR + r] = src[q];
                    }
                    else for (int q = 0; q < kc; q++) panel[q * MR + r] = 0f;
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * lda + ic + ir;
                    float* d = panel + p * MR;
                    int r = 0;
                    if (mr == MR && Avx.IsSupported)
                    {
                        for (; r + 8 <= MR; r += 8) Avx.Store(d + r, Avx.LoadVector256(src + r));
                        for (; r + 4 <= MR; r += 4) Sse.Store(d + r, Sse.LoadVector128(src + r));
                    }
                    for (; r < mr; r++) d[r] = src[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(int NR, Transpose tb, float* b, int ldb, int pc, int jc, int kc, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (tb == Transpose.No)
            {
                float* src = b + (long)pc * ldb + jc + jr;
                if (nr == NR && Avx.IsSupported)
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                        for (int j = 0; j < NR; j += 8)
                            Avx.StoreAligned(panel + p * NR + j, Avx.LoadVector256(src + j));
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        float* d = panel + p * NR;
                        int j = 0;
                        for (; j < nr; j++) d[j] = src[j];
                        for (; j < NR; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                // op(B)[p, j] = b[j·ldb + p]: a transpose. Full panels go through 8×8 AVX transposes.
                float* src = b + (long)(jc + jr) * ldb + pc;
                int p = 0;
                if (nr == NR && Avx.IsSupported)
                {
                    for (; p + 8 <= kc; p += 8)
                        for (int j = 0; j < NR; j += 8)
                            Transpose8x8(src + (long)j * ldb + p, ldb, panel + p * NR + j, NR);
                }
                for (; p < kc; p++)
                {
                    float* d = panel + p * NR;
                    int j = 0;
                    for (; j < nr; j++) d[j] = src[(long)j * ldb + p];
                    for (; j < NR; j++) d[j] = 0f;
                }
            }
        }
    }

    // dst[q·ldd + r] = src[r·lds + q] for r in 0..3, q in 0..7.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x8(float* src, nint lds, float* dst, nint ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);   // r0q0 r1q0 r0q1 r1q1 | q4 q5
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE); // q0|q4, q1|q5
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE); // q2|q6, q3|q7
        Sse.Store(dst, s0.GetLower());
        Sse.Store(dst + ldd, s1.GetLower());
        Sse.Store(dst + 2 * ldd, s2.GetLower());
        Sse.Store(dst + 3 * ldd, s3.GetLower());
        Sse.Store(dst + 4 * ldd, s0.GetUpper());
        Sse.Store(dst + 5 * ldd, s1.GetUpper());
        Sse.Store(dst + 6 * ldd, s2.GetUpper());
        Sse.Store(dst + 7 * ldd, s3.GetUpper());
    }

    // dst[q·ldd + r] = src[r·lds + q] for r, q in 0..7.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * lds), r7 = Avx.LoadVector256(src + 7 * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }
}
