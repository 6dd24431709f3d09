// Single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, in every layout
// training needs. Structure follows the BLIS/GotoBLAS decomposition (Van Zee & van de Geijn,
// "BLIS: A Framework for Rapidly Instantiating BLAS Functionality", TOMS 2015):
//   for jc (NC columns of C) → for pc (KC of the shared dimension) → pack B[kc×nc] →
//   for ic (MC rows) → pack A[mc×kc] → for jr (NR) → for ir (MR) → 6×16 micro-kernel.
// The packed B micro-panel (16×KC floats = 16 KiB) stays in L1, the packed A block in L2.
// The micro-kernel keeps a 6×16 tile of C in 12 ymm accumulators (6 rows × 2 vectors) and per
// k does 2 loads of B, 6 broadcasts of A and 12 FMAs: 15 of the 16 ymm registers AVX2 has.
//
// Threads: the pool splits C along its larger dimension (N when n ≥ m, else M) into
// NR- or MR-aligned shares; each thread packs and multiplies its share alone. The other operand
// is packed by both threads, and is the smaller one by that choice. Every element of C is
// computed by one thread in a fixed k order, so results do not depend on the thread count.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Core.Tensors;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
public enum Transpose : byte
{
    /// <summary>Use the matrix as stored.</summary>
    No,
    /// <summary>Use the transpose of the stored matrix.</summary>
    Yes,
}

/// <summary>Row-major single-precision matrix multiply.</summary>
public static unsafe class Gemm
{
    internal const int MR = 6;
    internal const int NR = 16;
    // KC·NR·4 = 16 KiB (B micro-panel in L1d); MC·KC·4 = 144 KiB (A block in L2);
    // KC·NC·4 = 4 MiB (B block in L3). Chosen by the `gemm` suite's sweep on this machine.
    internal const int KC = 256;
    internal const int MC = 144;
    internal const int NC = 4096;

    // Below this many FLOPs per thread, waking another thread costs more than it saves.
    private const long MinFlopsPerThread = 1L << 21;

    /// <summary>True when the AVX2+FMA micro-kernel is used; otherwise a scalar kernel runs.</summary>
    public static bool IsVectorized => Fma.IsSupported && Avx.IsSupported;

    /// <summary>
    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C. Leading dimensions are row strides of
    /// the stored matrices. With beta = 0, C is not read (NaN in C does not leak through).
    /// </summary>
    public static void Sgemm(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, WorkerPool? pool = null)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        fixed (float* pa = a, pb = b, pc = c)
            Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, null, pool ?? WorkerPool.Shared);
    }

    /// <summary>
    /// <paramref name="batch"/> independent GEMMs (attention's per-head products): item i reads
    /// A at <c>i·strideA</c>, B at <c>i·strideB</c> and writes C at <c>i·strideC</c>.
    /// </summary>
    public static void SgemmBatched(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC, int batch, WorkerPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (batch == 0) return;
        Validate(transA, transB, m, n, k, a.Length - (batch - 1) * strideA, lda, b.Length - (batch - 1) * strideB, ldb,
            c.Length - (batch - 1) * strideC, ldc);
        pool ??= WorkerPool.Shared;
        fixed (float* pa = a, pb = b, pc = c)
        {
            long flopsPerItem = 2L * m * n * k;
            if (batch >= pool.ThreadCount || flopsPerItem < MinFlopsPerThread * pool.ThreadCount)
            {
                var job = new BatchedJob
                {
                    TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                    A = pa, Lda = lda, StrideA = strideA, B = pb, Ldb = ldb, StrideB = strideB,
                    C = pc, Ldc = ldc, StrideC = strideC, Batch = batch,
                };
                pool.Run(job, pool.ThreadsFor(flopsPerItem * batch, MinFlopsPerThread));
            }
            else
            {
                for (int i = 0; i < batch; i++)
                    Run(transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc, null, pool);
            }
        }
    }

    /// <summary>Pointer entry used by the layer kernels; <paramref name="bias"/> (length n), if given, is added to every row of C.</summary>
    internal static void Run(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, float* bias, WorkerPool pool)
    {
        if (m == 0 || n == 0) return;
        var job = new GemmJob
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a, Lda = lda, B = b, Ldb = ldb, C = c, Ldc = ldc, Bias = bias,
        };
        pool.Run(job, pool.ThreadsFor(2L * m * n * k, MinFlopsPerThread));
    }

    private static void Validate(Transpose ta, Transpose tb, int m, int n, int k, long aLen, int lda, long bLen, int ldb, long cLen, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"GEMM sizes must be non-negative; got m={m}, n={n}, k={k}.");
        CheckOperand("A", ta == Transpose.No ? m : k, ta == Transpose.No ? k : m, aLen, lda);
        CheckOperand("B", tb == Transpose.No ? k : n, tb == Transpose.No ? n : k, bLen, ldb);
        CheckOperand("C", m, n, cLen, ldc);
    }

    private static void CheckOperand(string name, int rows, int cols, long length, int ld)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"Leading dimension of {name} is {ld} but its stored rows hold {cols} columns; it must be at least {Math.Max(1, cols)}.");
        long need = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"{name} is stored as {rows}×{cols} with leading dimension {ld}, which needs {need} elements, but the span holds {length}.");
    }

    private struct GemmJob : IParallelJob
    {
        public Transpose TransA, TransB;
        public int M, N, K, Lda, Ldb, Ldc;
        public float Alpha, Beta;
        public float* A, B, C, Bias;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            float* a = A, b = B, c = C, bias = Bias;
            int m = M, n = N;
            if (N >= M)
            {
                var (j0, j1) = WorkerPool.PartitionAligned(N, NR, threadIndex, threadCount);
                if (j0 >= j1) return;
                n = j1 - j0;
                b += TransB == Transpose.No ? j0 : (long)j0 * Ldb;
                c += j0;
                if (bias != null) bias += j0;
            }
            else
            {
                var (i0, i1) = WorkerPool.PartitionAligned(M, MR, threadIndex, threadCount);
                if (i0 >= i1) return;
                m = i1 - i0;
                a += TransA == Transpose.No ? (long)i0 * Lda : i0;
                c += (long)i0 * Ldc;
            }
            float beta = Beta;
            if (bias != null)
            {
                AddBiasRows(c, Ldc, m, n, bias, Beta);
                beta = 1f;
            }
            Serial(TransA, TransB, m, n, K, Alpha, a, Lda, b, Ldb, beta, c, Ldc);
        }
    }

    private struct BatchedJob : IParallelJob
    {
        public Transpose TransA, TransB;
        public int M, N, K, Lda, Ldb, Ldc, Batch;
        public long StrideA, StrideB, StrideC;
        public float Alpha, Beta;
        public float* A, B, C;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            var (s, e) = WorkerPool.Partition(Batch, threadIndex, threadCount);
            for (int i = s; i < e; i++)
                Serial(TransA, TransB, M, N, K, Alpha, A + i * StrideA, Lda, B + i * StrideB, Ldb, Beta, C + i * StrideC, Ldc);
        }
    }

    // C = beta·C + bias (broadcast over rows), so the GEMM can then accumulate with beta = 1.
    private static void AddBiasRows(float* c, int ldc, int m, int n, float* bias, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            var bs = new ReadOnlySpan<float>(bias, n);
            if (beta == 0f) bs.CopyTo(row);
            else
            {
                if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
                System.Numerics.Tensors.TensorPrimitives.Add(row, bs, row);
            }
        }
    }

    /// <summary>One thread's GEMM over its share, with this thread's packing buffers.</summary>
    internal static void Serial(Transpose ta, Transpose tb, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            ScaleC(c, ldc, m, n, beta);
            return;
        }
        var scratch = PackScratch.ForCurrentThread();
        float* packA = scratch.A, packB = scratch.B;
        float* edge = stackalloc float[MR * NR];
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                PackB(tb, b, ldb, pc, jc, kc, nc, packB);
                float betaNow = pc == 0 ? beta : 1f;
                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    PackA(ta, a, lda, ic, pc, mc, kc, packA);
                    Macro(mc, nc, kc, alpha, packA, packB, betaNow, c + (long)ic * ldc + jc, ldc, edge);
                }
            }
        }
    }

    private static void ScaleC(float* c, int ldc, int m, int n, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    private static void Macro(int mc, int nc, int kc, float alpha, float* packA, float* packB, float beta, float* c, int ldc, float* edge)
    {
        bool simd = IsVectorized;
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* bp = packB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* ap = packA + (long)ir * kc;
                float* cp = c + (long)ir * ldc + jr;
                if (mr == MR && nr == NR)
                {
                    if (simd) Kernel6x16(kc, ap, bp, cp, ldc, alpha, beta);
                    else KernelScalar(kc, ap, bp, cp, ldc, alpha, beta);
                }
                else
                {
                    // Partial tile: compute the full 6×16 tile into a scratch tile, then merge the valid part.
                    if (simd) Kernel6x16(kc, ap, bp, edge, NR, 1f, 0f);
                    else KernelScalar(kc, ap, bp, edge, NR, 1f, 0f);
                    for (int i = 0; i < mr; i++)
                    {
                        float* crow = cp + (long)i * ldc;
                        float* erow = edge + i * NR;
                        if (beta == 0f) for (int j = 0; j < nr; j++) crow[j] = alpha * erow[j];
                        else for (int j = 0; j < nr; j++) crow[j] = alpha * erow[j] + beta * crow[j];
                    }
                }
            }
        }
    }

    // The register-blocked micro-kernel: C[6×16] = alpha·(Ap[6×kc]·Bp[kc×16]) + beta·C.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero;
        Vector256<float> c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero;
        Vector256<float> c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero;
        Vector256<float> c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero;
        Vector256<float> c40 = Vector256<float>.Zero, c41 = Vector256<float>.Zero;
        Vector256<float> c50 = Vector256<float>.Zero, c51 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Avx.LoadAlignedVector256(b);
            Vector256<float> b1 = Avx.LoadAlignedVector256(b + 8);
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
            a += MR;
            b += NR;
        }
        StoreRow(c, alpha, beta, c00, c01);
        StoreRow(c + ldc, alpha, beta, c10, c11);
        StoreRow(c + 2 * ldc, alpha, beta, c20, c21);
        StoreRow(c + 3 * ldc, alpha, beta, c30, c31);
        StoreRow(c + 4 * ldc, alpha, beta, c40, c41);
        StoreRow(c + 5 * ldc, alpha, beta, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, float alpha, float beta, Vector256<float> lo, Vector256<float> hi)
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

    // Portable kernel for machines (or DOTNET_EnableAVX2=0 runs) without AVX2+FMA.
    private static void KernelScalar(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
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
            a += MR;
            b += NR;
        }
        for (int i = 0; i < MR; i++)
        {
            float* crow = c + i * ldc;
            float* row = acc + i * NR;
            if (beta == 0f) for (int j = 0; j < NR; j++) crow[j] = alpha * row[j];
            else for (int j = 0; j < NR; j++) crow[j] = alpha * row[j] + beta * crow[j];
        }
    }

    // Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row micro-panels: panel r holds, for each p, the
    // MR values op(A)[r·MR + 0..MR-1, p] consecutively. Rows past mc are zero.
    private static void PackA(Transpose ta, float* a, int lda, int ic, int pc, int mc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (ta == Transpose.No)
            {
                for (int r = 0; r < MR; r++)
                {
                    if (r < mr)
                    {
                        float* src = a + (long)(ic + ir + r) * lda + pc;
                        for (int p = 0; p < kc; p++) panel[p * MR + r] = src[p];
                    }
                    else for (int p = 0; p < kc; p++) panel[p * MR + r] = 0f;
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * lda + ic + ir;
                    float* d = panel + p * MR;
                    int r = 0;
                    for (; r < mr; r++) d[r] = src[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
        }
    }

    // Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-column micro-panels: panel j holds, for each p,
    // the NR values op(B)[p, j·NR + 0..NR-1] consecutively. Columns past nc are zero.
    private static void PackB(Transpose tb, float* b, int ldb, int pc, int jc, int kc, int nc, float* dst)
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
                    {
                        Avx.StoreAligned(panel + p * NR, Avx.LoadVector256(src));
                        Avx.StoreAligned(panel + p * NR + 8, Avx.LoadVector256(src + 8));
                    }
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
                    {
                        Transpose8x8(src + p, ldb, panel + p * NR, NR);
                        Transpose8x8(src + 8L * ldb + p, ldb, panel + p * NR + 8, NR);
                    }
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

    // Per-thread packing buffers, allocated once per OS thread on its first GEMM and kept for
    // the thread's life: the pool's threads are persistent, so this is a fixed cost per core.
    private sealed class PackScratch
    {
        [ThreadStatic] private static PackScratch? t_current;
        private readonly NativeBuffer _a = new((long)MC * KC * sizeof(float), zero: false, tracked: false);
        private readonly NativeBuffer _b = new((long)KC * NC * sizeof(float), zero: false, tracked: false);
        public float* A => (float*)_a.Pointer;
        public float* B => (float*)_b.Pointer;
        public static PackScratch ForCurrentThread() => t_current ??= new PackScratch();
    }
}
