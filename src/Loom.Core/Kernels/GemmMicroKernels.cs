// The register-blocked GEMM micro-kernels: C[MR×NR] = alpha·(A[MR×kc]·B[kc×NR]) + beta·C.
// A supplies MR consecutive values per k, sa floats apart; B supplies NR consecutive values per
// k, sb floats apart. On panels packed by GemmPacking sa = MR and sb = NR; the small-GEMM path
// (Gemm.Serial, k ≤ 128) passes the stored operand itself where it already has that shape
// (op(A) = Aᵀ: sa = lda; op(B) = B: sb = ldb), which saves the packing of attention's per-head
// products. Loads of B are therefore unaligned loads (no penalty on aligned addresses).
// Each keeps its whole C tile in registers for the k loop and touches C only at the end; the
// tile's rows of C are prefetched into L1 before the loop, as BLIS's skx kernel does
// (bli_sgemm_skx_asm_32x12_l2.c prefetches C at entry), so the final read-modify-write does not
// wait on a strided miss per row.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels;

internal static unsafe class GemmMicroKernels
{
    // AVX-512: 12×32 tile in 24 zmm accumulators (12 rows × 2 vectors of 16); per k 2 aligned
    // loads of B, 12 broadcasts of A and 24 FMAs. With two 512-bit FMA pipes of latency 4
    // (Zen 4/5, Skylake-X) 8 independent chains keep them busy; 24 hide the loads too.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x12x32(int kc, float* a, nint sa, float* b, nint sb, float* c, nint ldc, float alpha, float beta)
    {
        for (int r = 0; r < 12; r++)
        {
            float* cr = c + r * ldc;
            Sse.Prefetch0(cr);
            Sse.Prefetch0(cr + 16);
            Sse.Prefetch0(cr + 31);
        }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        Vector512<float> c80 = default, c81 = default, c90 = default, c91 = default;
        Vector512<float> ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Avx512F.LoadVector512(b);
            Vector512<float> b1 = Avx512F.LoadVector512(b + 16);
            Vector512<float> av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60); c61 = Avx512F.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70); c71 = Avx512F.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(a[8]);
            c80 = Avx512F.FusedMultiplyAdd(av, b0, c80); c81 = Avx512F.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(a[9]);
            c90 = Avx512F.FusedMultiplyAdd(av, b0, c90); c91 = Avx512F.FusedMultiplyAdd(av, b1, c91);
            av = Vector512.Create(a[10]);
            ca0 = Avx512F.FusedMultiplyAdd(av, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(av, b1, ca1);
            av = Vector512.Create(a[11]);
            cb0 = Avx512F.FusedMultiplyAdd(av, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(av, b1, cb1);
            a += sa;
            b += sb;
        }
        StoreRow512(c, alpha, beta, c00, c01);
        StoreRow512(c + ldc, alpha, beta, c10, c11);
        StoreRow512(c + 2 * ldc, alpha, beta, c20, c21);
        StoreRow512(c + 3 * ldc, alpha, beta, c30, c31);
        StoreRow512(c + 4 * ldc, alpha, beta, c40, c41);
        StoreRow512(c + 5 * ldc, alpha, beta, c50, c51);
        StoreRow512(c + 6 * ldc, alpha, beta, c60, c61);
        StoreRow512(c + 7 * ldc, alpha, beta, c70, c71);
        StoreRow512(c + 8 * ldc, alpha, beta, c80, c81);
        StoreRow512(c + 9 * ldc, alpha, beta, c90, c91);
        StoreRow512(c + 10 * ldc, alpha, beta, ca0, ca1);
        StoreRow512(c + 11 * ldc, alpha, beta, cb0, cb1);
    }

    // The 12×32 kernel on A read in place from row-major storage (op(A) = A, the small-GEMM
    // path's NN and NT products): row i of the tile at a + i·lda, consecutive along k. Four row
    // pointers with lda and 2·lda as index registers address all 12 rows ([a3 + lda·4] is row 4),
    // so the loop is the packed kernel's plus three pointer increments. A separate method rather
    // than a row stride in the main kernel, which keeps the large-GEMM loop exactly as measured.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x12x32RowsA(int kc, float* a, nint lda, float* b, nint sb, float* c, nint ldc, float alpha, float beta)
    {
        for (int r = 0; r < 12; r++)
        {
            float* cr = c + r * ldc;
            Sse.Prefetch0(cr);
            Sse.Prefetch0(cr + 16);
            Sse.Prefetch0(cr + 31);
        }
        nint lda2 = 2 * lda;
        float* a3 = a + 3 * lda, a6 = a + 6 * lda, a9 = a + 9 * lda;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        Vector512<float> c80 = default, c81 = default, c90 = default, c91 = default;
        Vector512<float> ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Avx512F.LoadVector512(b);
            Vector512<float> b1 = Avx512F.LoadVector512(b + 16);
            Vector512<float> av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[lda]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[lda2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a3[0]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a3[lda]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a3[lda2]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a6[0]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60); c61 = Avx512F.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a6[lda]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70); c71 = Avx512F.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(a6[lda2]);
            c80 = Avx512F.FusedMultiplyAdd(av, b0, c80); c81 = Avx512F.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(a9[0]);
            c90 = Avx512F.FusedMultiplyAdd(av, b0, c90); c91 = Avx512F.FusedMultiplyAdd(av, b1, c91);
            av = Vector512.Create(a9[lda]);
            ca0 = Avx512F.FusedMultiplyAdd(av, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(av, b1, ca1);
            av = Vector512.Create(a9[lda2]);
            cb0 = Avx512F.FusedMultiplyAdd(av, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(av, b1, cb1);
            a++; a3++; a6++; a9++;
            b += sb;
        }
        StoreRow512(c, alpha, beta, c00, c01);
        StoreRow512(c + ldc, alpha, beta, c10, c11);
        StoreRow512(c + 2 * ldc, alpha, beta, c20, c21);
        StoreRow512(c + 3 * ldc, alpha, beta, c30, c31);
        StoreRow512(c + 4 * ldc, alpha, beta, c40, c41);
        StoreRow512(c + 5 * ldc, alpha, beta, c50, c51);
        StoreRow512(c + 6 * ldc, alpha, beta, c60, c61);
        StoreRow512(c + 7 * ldc, alpha, beta, c70, c71);
        StoreRow512(c + 8 * ldc, alpha, beta, c80, c81);
        StoreRow512(c + 9 * ldc, alpha, beta, c90, c91);
        StoreRow512(c + 10 * ldc, alpha, beta, ca0, ca1);
        StoreRow512(c + 11 * ldc, alpha, beta, cb0, cb1);
    }

    // Edge rows of the 12×32 kernel: up to 4 rows (rows ≤ 4) of a full-width tile, so an M that is
    // not a multiple of 12 (GPT-2's 256 = 21·12 + 4, 2048 = 170·12 + 8, attention's 64 = 5·12 + 4)
    // costs its own rows instead of a whole 12-row tile computed into scratch and copied.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x4x32(int rows, int kc, float* a, nint sa, float* b, nint sb, float* c, nint ldc, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 31);
        }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Avx512F.LoadVector512(b);
            Vector512<float> b1 = Avx512F.LoadVector512(b + 16);
            Vector512<float> av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            a += sa;
            b += sb;
        }
        StoreRow512(c, alpha, beta, c00, c01);
        if (rows > 1) StoreRow512(c + ldc, alpha, beta, c10, c11);
        if (rows > 2) StoreRow512(c + 2 * ldc, alpha, beta, c20, c21);
        if (rows > 3) StoreRow512(c + 3 * ldc, alpha, beta, c30, c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow512(float* c, float alpha, float beta, Vector512<float> lo, Vector512<float> hi)
    {
        var va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            Avx512F.Store(c, Avx512F.Multiply(lo, va));
            Avx512F.Store(c + 16, Avx512F.Multiply(hi, va));
        }
        else if (beta == 1f)
        {
            Avx512F.Store(c, Avx512F.FusedMultiplyAdd(lo, va, Avx512F.LoadVector512(c)));
            Avx512F.Store(c + 16, Avx512F.FusedMultiplyAdd(hi, va, Avx512F.LoadVector512(c + 16)));
        }
        else
        {
            var vb = Vector512.Create(beta);
            Avx512F.Store(c, Avx512F.FusedMultiplyAdd(lo, va, Avx512F.Multiply(vb, Avx512F.LoadVector512(c))));
            Avx512F.Store(c + 16, Avx512F.FusedMultiplyAdd(hi, va, Avx512F.Multiply(vb, Avx512F.LoadVector512(c + 16))));
        }
    }

    // AVX2: 6×16 tile in 12 ymm accumulators; per k 2 loads of B, 6 broadcasts of A and 12 FMAs:
    // 15 of the 16 ymm registers AVX2 has.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2x6x16(int kc, float* a, nint sa, float* b, nint sb, float* c, nint ldc, float alpha, float beta)
    {
        for (int r = 0; r < 6; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 15);
        }
        Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero;
        Vector256<float> c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero;
        Vector256<float> c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero;
        Vector256<float> c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero;
        Vector256<float> c40 = Vector256<float>.Zero, c41 = Vector256<float>.Zero;
        Vector256<float> c50 = Vector256<float>.Zero, c51 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Avx.LoadVector256(b);
            Vector256<float> b1 = Avx.LoadVector256(b + 8);
            Vector256<float> av = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += sa;
            b += sb;
        }
        StoreRow256(c, alpha, beta, c00, c01);
        StoreRow256(c + ldc, alpha, beta, c10, c11);
        StoreRow256(c + 2 * ldc, alpha, beta, c20, c21);
        StoreRow256(c + 3 * ldc, alpha, beta, c30, c31);
        StoreRow256(c + 4 * ldc, alpha, beta, c40, c41);
        StoreRow256(c + 5 * ldc, alpha, beta, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow256(float* c, float alpha, float beta, Vector256<float> lo, Vector256<float> hi)
    {
        var va = Vector256.Create(alpha);
        if (beta == 0f)
        {
            Avx.Store(c, Avx.Multiply(lo, va));
            Avx.Store(c + 8, Avx.Multiply(hi, va));
        }
        else if (beta == 1f)
        {
            Avx.Store(c, Fma.MultiplyAdd(lo, va, Avx.LoadVector256(c)));
            Avx.Store(c + 8, Fma.MultiplyAdd(hi, va, Avx.LoadVector256(c + 8)));
        }
        else
        {
            var vb = Vector256.Create(beta);
            Avx.Store(c, Fma.MultiplyAdd(lo, va, Avx.Multiply(vb, Avx.LoadVector256(c))));
            Avx.Store(c + 8, Fma.MultiplyAdd(hi, va, Avx.Multiply(vb, Avx.LoadVector256(c + 8))));
        }
    }

    // Portable 6×16 kernel for machines (or DOTNET_EnableAVX2=0 runs) without AVX2+FMA.
    public static void Scalar6x16(int kc, float* a, nint sa, float* b, nint sb, float* c, nint ldc, float alpha, float beta)
    {
        const int MR = 6, NR = 16;
        float* acc = stackalloc float[MR * NR];
        new Span<float>(acc, MR * NR).Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < MR; i++)
            {
                float av = a[i];
                float* row = acc + i * NR;
                for (int j = 0; j < NR; j++) row[j] += av * b[j];
            }
            a += sa;
            b += sb;
        }
        for (int i = 0; i < MR; i++)
        {
            float* crow = c + i * ldc;
            float* row = acc + i * NR;
            if (beta == 0f) for (int j = 0; j < NR; j++) crow[j] = alpha * row[j];
            else for (int j = 0; j < NR; j++) crow[j] = alpha * row[j] + beta * crow[j];
        }
    }
}
