// Single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, in every layout
// training needs. Structure follows the BLIS/GotoBLAS decomposition (Van Zee & van de Geijn,
// "BLIS: A Framework for Rapidly Instantiating BLAS Functionality", TOMS 2015):
//   for jc (NC columns of C) → for pc (KC of the shared dimension) → pack B[kc×nc] →
//   for ic (MC rows) → pack A[mc×kc] → for jr (NR) → for ir (MR) → MR×NR micro-kernel.
// The packed B micro-panel (NR×KC floats) stays in L1, the packed A block in L2.
// When M fits one block of A (M ≤ 288: GPT-2's 256 tokens), B is instead packed one micro-panel
// at a time, just before its column of tiles, with the next panel's source prefetched meanwhile
// (SerialOneBlockOfA; same tiles and bits as the block order).
// Micro-kernels (GemmMicroKernels.cs), one per GemmPath, chosen once per process by the CPU:
//   AVX-512: a 12×32 tile of C in 24 zmm accumulators; per k 2 loads of B, 12 broadcasts of A
//            and 24 FMAs (27 of the 32 zmm registers).
//   AVX2:    a 6×16 tile in 12 ymm accumulators; per k 2 loads, 6 broadcasts, 12 FMAs (15 of 16).
//   scalar:  the 6×16 tile in plain C#, for CPUs (or DOTNET_Enable* runs) without AVX2+FMA.
// Tests run every path available on the machine against naive double references.
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
    // Below this many FLOPs per thread, waking another thread costs more than it saves.
    private const long MinFlopsPerThread = 1L << 21;

    /// <summary>
    /// The micro-kernel this process uses: AVX-512 when <see cref="Avx512F"/> is supported (the ISA
    /// check, not Vector512.IsHardwareAccelerated, which the runtime turns off on CPUs where 512-bit
    /// elementwise code downclocks; a GEMM gains there anyway), else AVX2+FMA, else scalar.
    /// DOTNET_EnableAVX512=0 (.NET 10's switch; .NET 8/9 read DOTNET_EnableAVX512F), DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0 select the narrower paths.
    /// </summary>
    public static GemmPath SelectedPath { get; } =
        IsSupported(GemmPath.Avx512) ? GemmPath.Avx512 : IsSupported(GemmPath.Avx2) ? GemmPath.Avx2 : GemmPath.Scalar;

    /// <summary>True when a SIMD micro-kernel (AVX2 or AVX-512) is used.</summary>
    public static bool IsVectorized => SelectedPath != GemmPath.Scalar;

    /// <summary>Whether this CPU (as the runtime exposes it) can run <paramref name="path"/>.</summary>
    public static bool IsSupported(GemmPath path) => path switch
    {
        GemmPath.Avx512 => Avx512F.IsSupported && Fma.IsSupported && Avx2.IsSupported,
        GemmPath.Avx2 => Fma.IsSupported && Avx2.IsSupported,
        _ => true,
    };

    /// <summary>Human-readable name of a path's micro-kernel, as `loom doctor` prints it.</summary>
    public static string Describe(GemmPath path) => path switch
    {
        GemmPath.Avx512 => "AVX-512 12×32 micro-kernel",
        GemmPath.Avx2 => "AVX2+FMA 6×16 micro-kernel",
        _ => "scalar 6×16 micro-kernel (no AVX2+FMA)",
    };

    /// <summary>
    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C. Leading dimensions are row strides of
    /// the stored matrices. With beta = 0, C is not read (NaN in C does not leak through).
    /// </summary>
    public static void Sgemm(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, WorkerPool? pool = null) =>
        Sgemm(SelectedPath, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, pool);

    /// <summary>As the public overload, on an explicit micro-kernel (tests and benchmarks).</summary>
    internal static void Sgemm(GemmPath path,
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, WorkerPool? pool = null)
    {
        CheckPath(path);
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        fixed (float* pa = a, pb = b, pc = c)
            Run(path, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, null, pool ?? WorkerPool.Shared);
    }

    /// <summary>
    /// <paramref name="batch"/> independent GEMMs (attention's per-head products): item i reads
    /// A at <c>i·strideA</c>, B at <c>i·strideB</c> and writes C at <c>i·strideC</c>.
    /// </summary>
    public static void SgemmBatched(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC, int batch, WorkerPool? pool = null) =>
        SgemmBatched(SelectedPath, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, pool);

    /// <summary>As the public overload, on an explicit micro-kernel (tests and benchmarks).</summary>
    internal static void SgemmBatched(GemmPath path,
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC, int batch, WorkerPool? pool = null)
    {
        CheckPath(path);
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
                    Path = path, TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                    A = pa, Lda = lda, StrideA = strideA, B = pb, Ldb = ldb, StrideB = strideB,
                    C = pc, Ldc = ldc, StrideC = strideC, Batch = batch,
                };
                pool.Run(job, pool.ThreadsFor(flopsPerItem * batch, MinFlopsPerThread));
            }
            else
            {
                for (int i = 0; i < batch; i++)
                    Run(path, transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc, null, pool);
            }
        }
    }

    /// <summary>Pointer entry used by the layer kernels; <paramref name="bias"/> (length n), if given, is added to every row of C.</summary>
    internal static void Run(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, float* bias, WorkerPool pool) =>
        Run(SelectedPath, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, pool);

    internal static void Run(GemmPath path,
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, float* bias, WorkerPool pool)
    {
        if (m == 0 || n == 0) return;
        var job = new GemmJob
        {
            Path = path, TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a, Lda = lda, B = b, Ldb = ldb, C = c, Ldc = ldc, Bias = bias,
        };
        pool.Run(job, pool.ThreadsFor(2L * m * n * k, MinFlopsPerThread));
    }

    private static void CheckPath(GemmPath path)
    {
        if (!IsSupported(path))
            throw new NotSupportedException($"The {path} GEMM kernel needs instructions this CPU (or runtime configuration) does not offer; the selected path is {SelectedPath}.");
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
        public GemmPath Path;
        public Transpose TransA, TransB;
        public int M, N, K, Lda, Ldb, Ldc;
        public float Alpha, Beta;
        public float* A, B, C, Bias;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            var blk = GemmBlocking.For(Path);
            float* a = A, b = B, c = C, bias = Bias;
            int m = M, n = N;
            if (N >= M)
            {
                var (j0, j1) = WorkerPool.PartitionAligned(N, blk.NR, threadIndex, threadCount);
                if (j0 >= j1) return;
                n = j1 - j0;
                b += TransB == Transpose.No ? j0 : (long)j0 * Ldb;
                c += j0;
                if (bias != null) bias += j0;
            }
            else
            {
                var (i0, i1) = WorkerPool.PartitionAligned(M, blk.MR, threadIndex, threadCount);
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
            Serial(blk, TransA, TransB, m, n, K, Alpha, a, Lda, b, Ldb, beta, c, Ldc);
        }
    }

    private struct BatchedJob : IParallelJob
    {
        public GemmPath Path;
        public Transpose TransA, TransB;
        public int M, N, K, Lda, Ldb, Ldc, Batch;
        public long StrideA, StrideB, StrideC;
        public float Alpha, Beta;
        public float* A, B, C;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            var blk = GemmBlocking.For(Path);
            var (s, e) = WorkerPool.Partition(Batch, threadIndex, threadCount);
            for (int i = s; i < e; i++)
                Serial(blk, TransA, TransB, M, N, K, Alpha, A + i * StrideA, Lda, B + i * StrideB, Ldb, Beta, C + i * StrideC, Ldc);
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

    // The small-GEMM path (attention's per-head products): k up to this, both operands within the
    // packing buffers. It packs only what the micro-kernel cannot read in place (see Serial).
    internal const int SmallK = 128;

    /// <summary>One thread's GEMM over its share, with this thread's packing buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Serial(GemmBlocking blk, Transpose ta, Transpose tb, int m, int n, int k, float alpha,
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
        float* edge = stackalloc float[GemmBlocking.MaxTile];
        int MR = blk.MR, NR = blk.NR;
        if (k <= SmallK && (long)RoundUp(m, MR) * k <= GemmBlocking.MaxPackA && (long)RoundUp(n, NR) * k <= GemmBlocking.MaxPackB)
        {
            // One block in every dimension. op(A) = Aᵀ already holds MR consecutive values per k
            // (lda apart) and op(B) = B NR consecutive values per k (ldb apart): the kernel reads
            // those full panels in place and only the partial last panel is packed (zero-padded).
            // On AVX-512 op(A) = A is read in place too, by a kernel that walks 12 rows of A.
            // With k ≤ 128 a B panel read in place spans at most 128 rows, which L1 holds even at
            // power-of-two strides. Per 64×64×64 product this skips packing 8,192 floats against
            // 524,288 FLOPs — at 160 GFLOP/s the packing cost about as much as the multiply.
            var pa = new Panels();
            if (ta == Transpose.Yes || blk.Path == GemmPath.Avx512)
            {
                // op(A) = A (row-major) is read in place by the AVX-512 row-pointer kernel.
                pa = new Panels { Direct = a, Ld = lda, Full = m / MR * MR, Packed = packA, RowsA = ta == Transpose.No };
                if (pa.Full < m) GemmPacking.PackA(MR, ta, a, lda, pa.Full, 0, m - pa.Full, k, packA);
            }
            else
            {
                pa.Packed = packA;
                GemmPacking.PackA(MR, ta, a, lda, 0, 0, m, k, packA);
            }
            var pb = new Panels();
            if (tb == Transpose.No)
            {
                pb = new Panels { Direct = b, Ld = ldb, Full = n / NR * NR, Packed = packB };
                if (pb.Full < n) GemmPacking.PackB(NR, tb, b, ldb, 0, pb.Full, k, n - pb.Full, packB);
            }
            else
            {
                pb.Packed = packB;
                GemmPacking.PackB(NR, tb, b, ldb, 0, 0, k, n, packB);
            }
            Macro(blk, m, n, k, alpha, pa, pb, beta, c, ldc, edge);
            return;
        }

        // Blocks of equal size, no larger than the path's KC and MC (MC a multiple of MR), so a
        // dimension just over a block size is not followed by a thin block (k = 300 → 2×150, not
        // 256 + 44). M up to 2·MC is one block: GPT-2's M = 256 then packs A once and reads each
        // packed B micro-panel once, instead of 144 + 112 rows with every B panel read twice.
        int kBlocks = (k + blk.KC - 1) / blk.KC;
        int KC = (k + kBlocks - 1) / kBlocks;
        int MC;
        if (m <= GemmBlocking.MaxMC) MC = RoundUp(m, MR);
        else
        {
            int mBlocks = (m + blk.MC - 1) / blk.MC;
            MC = RoundUp((m + mBlocks - 1) / mBlocks, MR);
        }
        if (m <= GemmBlocking.MaxMC && PackBPerPanel)
        {
            SerialOneBlockOfA(blk, ta, tb, m, n, k, KC, alpha, a, lda, b, ldb, beta, c, ldc, packA, packB, edge);
            return;
        }
        var A = new Panels { Packed = packA };
        var B = new Panels { Packed = packB };
        for (int jc = 0; jc < n; jc += blk.NC)
        {
            int nc = Math.Min(blk.NC, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                GemmPacking.PackB(NR, tb, b, ldb, pc, jc, kc, nc, packB);
                float betaNow = pc == 0 ? beta : 1f;
                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    GemmPacking.PackA(MR, ta, a, lda, ic, pc, mc, kc, packA);
                    Macro(blk, mc, nc, kc, alpha, A, B, betaNow, c + (long)ic * ldc + jc, ldc, edge);
                }
            }
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    // Whether M ≤ MaxMC (one block of A) packs B one micro-panel at a time (SerialOneBlockOfA) rather
    // than a whole KC×NC block first. Both compute the same tiles with the same kernels in the same
    // k order, so the results are bit-identical (tested); the switch exists so the tests and the
    // `gemm` suite can compare the two.
    internal static bool PackBPerPanel = true;

    // M ≤ MaxMC (GPT-2's M = 256 rows, or each thread's share of it): A is one block per k block,
    // so every packed B micro-panel is used by exactly one column of tiles. Packing all of a KC×NC
    // block first (a thread's 1,536 columns at 2 threads: 1.5 MiB, past the 1 MiB L2) wrote it out
    // to L3 and read it back, in a packing phase that also waited on W's strided rows from memory
    // while the FMA units idled — both threads at once at 2 threads. Here each micro-panel is packed
    // right before its column of tiles (32 KiB that stay in L1, as OpenBLAS's level-3 driver packs B
    // for its first block of A), and while the tiles run, the source lines of the next micro-panel
    // — and, over the last panels of a k block, those of the next k block's A — are prefetched a few
    // per tile, so the packing reads from cache instead of memory.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SerialOneBlockOfA(GemmBlocking blk, Transpose ta, Transpose tb, int m, int n, int k, int KC, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, float* packA, float* packB, float* edge)
    {
        int MR = blk.MR, NR = blk.NR;
        int tiles = (m + MR - 1) / MR;   // micro-kernel calls per micro-panel (Macro's ir loop)
        var A = new Panels { Packed = packA };
        var B = new Panels { Packed = packB };
        var pf = new Prefetcher();
        for (int jc = 0; jc < n; jc += blk.NC)
        {
            int nc = Math.Min(blk.NC, n - jc);
            int panels = (nc + NR - 1) / NR;
            // The next k block's A is prefetched over the last few panels only, so it is not evicted
            // again (by C and the B panels' traffic) before the packing reads it.
            int aPanels = Math.Min(panels, 4);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                int pcNext = pc + kc, kcNext = Math.Min(KC, k - pcNext);
                GemmPacking.PackA(MR, ta, a, lda, 0, pc, m, kc, packA);
                float betaNow = pc == 0 ? beta : 1f;
                pf.A = default;
                for (int jr = 0, panel = 0; jr < nc; jr += NR, panel++)
                {
                    int nr = Math.Min(NR, nc - jr);
                    GemmPacking.PackB(NR, tb, b, ldb, pc, jc + jr, kc, nr, packB);
                    if (jr + NR < nc) pf.B = RegionOfB(tb, b, ldb, pc, kc, jc + jr + NR, Math.Min(NR, nc - jr - NR), tiles);
                    else if (pcNext < k) pf.B = RegionOfB(tb, b, ldb, pcNext, kcNext, jc, Math.Min(NR, nc), tiles);
                    else pf.B = default;
                    if (panel == panels - aPanels && pcNext < k)
                        pf.A = ta == Transpose.No
                            ? PrefetchRegion.Of(a + pcNext, lda, m, kcNext, aPanels * tiles)
                            : PrefetchRegion.Of(a + (long)pcNext * lda, lda, kcNext, m, aPanels * tiles);
                    Macro(blk, m, nr, kc, alpha, A, B, betaNow, c + jc + jr, ldc, edge, &pf);
                }
            }
        }
    }

    // Where op(B)[p0 : p0+kc, j0 : j0+w] is stored: kc rows of w floats (B as stored), or w rows of kc (B stored transposed).
    private static PrefetchRegion RegionOfB(Transpose tb, float* b, int ldb, int p0, int kc, int j0, int w, int steps) =>
        tb == Transpose.No
            ? PrefetchRegion.Of(b + (long)p0 * ldb + j0, ldb, kc, w, steps)
            : PrefetchRegion.Of(b + (long)j0 * ldb + p0, ldb, w, kc, steps);

    // The lines of a row-major region (Rows rows of Len floats, Ld apart), prefetched in order, a quota
    // per Step so that `steps` calls cover it all.
    private struct PrefetchRegion
    {
        private float* _base;
        private nint _ld;
        private int _rows, _len, _quota, _row, _off;

        public static PrefetchRegion Of(float* start, nint ld, int rows, int len, int steps)
        {
            if (rows <= 0 || len <= 0) return default;
            long lines = (long)rows * ((len + 15) / 16 + 1);
            return new PrefetchRegion { _base = start, _ld = ld, _rows = rows, _len = len, _quota = (int)Math.Max(1, (lines + steps - 1) / Math.Max(1, steps)) };
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step()
        {
            if (!Sse.IsSupported) return;
            for (int q = _quota; q > 0 && _row < _rows; q--)
            {
                float* row = _base + _row * _ld;
                if (_off < _len)
                {
                    Sse.Prefetch1(row + _off);
                    _off += 16;
                }
                else
                {
                    // The row's last line (the steps of 16 floats miss it when the row starts mid-line).
                    Sse.Prefetch1(row + _len - 1);
                    _off = 0;
                    _row++;
                }
            }
        }
    }

    private struct Prefetcher
    {
        public PrefetchRegion A, B;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step()
        {
            A.Step();
            B.Step();
        }
    }

    // Where the micro-kernel finds an operand's panels: the first Full rows (A) or columns (B)
    // in place at Direct (panel r at Direct + r, Ld floats per k), the rest packed at Packed
    // (panel r at Packed + (r - Full)·kc, MR or NR floats per k). Full = 0: all packed.
    // RowsA: the in-place A is row-major op(A) = A (panel r at Direct + r·Ld, rows Ld apart,
    // consecutive along k), read by GemmMicroKernels.Avx512x12x32RowsA.
    private struct Panels
    {
        public float* Direct, Packed;
        public nint Ld;
        public int Full;
        public bool RowsA;
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Macro(GemmBlocking blk, int mc, int nc, int kc, float alpha, Panels pa, Panels pb, float beta, float* c, int ldc, float* edge,
        Prefetcher* prefetch = null)
    {
        int MR = blk.MR, NR = blk.NR;
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* bp; nint sb;
            if (jr < pb.Full) { bp = pb.Direct + jr; sb = pb.Ld; }
            else { bp = pb.Packed + (long)(jr - pb.Full) * kc; sb = NR; }
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                if (prefetch != null) prefetch->Step();
                float* ap; nint sa;
                bool rowsA = ir < pa.Full && pa.RowsA;
                if (rowsA) { ap = pa.Direct + (long)ir * pa.Ld; sa = pa.Ld; }
                else if (ir < pa.Full) { ap = pa.Direct + ir; sa = pa.Ld; }
                else { ap = pa.Packed + (long)(ir - pa.Full) * kc; sa = MR; }
                float* cp = c + (long)ir * ldc + jr;
                if (rowsA)
                {
                    // A full row-major panel (mr = MR); a partial-width tile goes through scratch.
                    if (nr == NR) GemmMicroKernels.Avx512x12x32RowsA(kc, ap, sa, bp, sb, cp, ldc, alpha, beta);
                    else
                    {
                        GemmMicroKernels.Avx512x12x32RowsA(kc, ap, sa, bp, sb, edge, NR, 1f, 0f);
                        MergeEdge(cp, ldc, edge, NR, mr, nr, alpha, beta);
                    }
                }
                else if (mr == MR && nr == NR)
                {
                    Tile(blk.Path, kc, ap, sa, bp, sb, cp, ldc, alpha, beta);
                }
                else if (nr == NR && blk.Path == GemmPath.Avx512)
                {
                    // Partial rows of a full-width tile: the 4-row kernel on groups of 4 (the
                    // packed edge panel is zero-padded, so its last group may read padding).
                    for (int g = 0; g < mr; g += 4)
                        GemmMicroKernels.Avx512x4x32(Math.Min(4, mr - g), kc, ap + g, sa, bp, sb, cp + (long)g * ldc, ldc, alpha, beta);
                }
                else
                {
                    // Partial tile: compute the full tile into a scratch tile, then merge the valid part.
                    Tile(blk.Path, kc, ap, sa, bp, sb, edge, NR, 1f, 0f);
                    MergeEdge(cp, ldc, edge, NR, mr, nr, alpha, beta);
                }
            }
        }
    }

    // C[mr×nr] = alpha·tile + beta·C from a scratch tile of NR columns (beta = 0: C not read).
    private static void MergeEdge(float* cp, int ldc, float* edge, int NR, int mr, int nr, float alpha, float beta)
    {
        for (int i = 0; i < mr; i++)
        {
            float* crow = cp + (long)i * ldc;
            float* erow = edge + i * NR;
            if (beta == 0f) for (int j = 0; j < nr; j++) crow[j] = alpha * erow[j];
            else for (int j = 0; j < nr; j++) crow[j] = alpha * erow[j] + beta * crow[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(GemmPath path, int kc, float* a, nint sa, float* b, nint sb, float* c, nint ldc, float alpha, float beta)
    {
        switch (path)
        {
            case GemmPath.Avx512: GemmMicroKernels.Avx512x12x32(kc, a, sa, b, sb, c, ldc, alpha, beta); break;
            case GemmPath.Avx2: GemmMicroKernels.Avx2x6x16(kc, a, sa, b, sb, c, ldc, alpha, beta); break;
            default: GemmMicroKernels.Scalar6x16(kc, a, sa, b, sb, c, ldc, alpha, beta); break;
        }
    }

    // Per-thread packing buffers, allocated once per OS thread on its first GEMM and kept for
    // the thread's life: the pool's threads are persistent, so this is a fixed cost per core.
    // Sized for the largest blocking of any path.
    private sealed class PackScratch
    {
        [ThreadStatic] private static PackScratch? t_current;
        private readonly NativeBuffer _a = new((long)GemmBlocking.MaxPackA * sizeof(float), zero: false, tracked: false);
        private readonly NativeBuffer _b = new((long)GemmBlocking.MaxPackB * sizeof(float), zero: false, tracked: false);
        public float* A => (float*)_a.Pointer;
        public float* B => (float*)_b.Pointer;
        public static PackScratch ForCurrentThread() => t_current ??= new PackScratch();
    }
}
