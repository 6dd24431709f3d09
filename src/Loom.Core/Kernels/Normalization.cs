// LayerNorm (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019), forward and backward.
// LayerNorm:  μ = mean(x), σ⁻¹ = 1/√(var(x)+ε) (biased variance, as PyTorch), n = (x−μ)σ⁻¹,
//             y = n⊙w + b.   Backward (llm.c layernorm_backward):
//             dn = dy⊙w;  dx = σ⁻¹ (dn − mean(dn) − n·mean(dn⊙n));  dw += Σ_rows dy⊙n;  db += Σ_rows dy.
// RMSNorm:    r = 1/√(mean(x²)+ε), n = x·r, y = n⊙w.
//             dx = r (dn − n·mean(dn⊙n));  dw += Σ_rows dy⊙n.
// The per-row statistics (μ, σ⁻¹ or r) are saved by the forward for the backward.
// The backward is one pass over the rows: each thread writes dx for its rows and sums its rows'
// dw (and db) into its own partial vector; the caller then adds the partials in thread order.
// For a given thread count the result is bit-identical run to run.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>LayerNorm over the last axis.</summary>
public static unsafe class LayerNorm
{
    /// <summary>y = LayerNorm(x)·w + b per row of <paramref name="cols"/>; saves per-row mean and rstd.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        Span<float> mean, Span<float> rstd, int cols, float epsilon = 1e-5f, WorkerPool? pool = null)
    {
        int rows = Softmax.CheckRows(x.Length, cols, "x");
        Elementwise.CheckLengths(x.Length, y.Length, "x", "y");
        Elementwise.CheckOverlap(x, y);
        Elementwise.CheckLengths(cols, weight.Length, "cols", "weight");
        Elementwise.CheckLengths(cols, bias.Length, "cols", "bias");
        Elementwise.CheckLengths(rows, mean.Length, "rows", "mean");
        Elementwise.CheckLengths(rows, rstd.Length, "rows", "rstd");
        fixed (float* px = x, pw = weight, pb = bias, py = y, pm = mean, pr = rstd)
        {
            var k = new ForwardKernel { X = px, W = pw, B = pb, Y = py, Mean = pm, Rstd = pr, Cols = cols, Eps = epsilon };
            Ranges.Run(pool, rows, cols * 3L, k);
        }
    }

    /// <summary>
    /// Backward: writes dx (or adds to it when <paramref name="accumulate"/>), and adds to
    /// dweight and dbias (gradients accumulate; zero them before the first micro-batch).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dweight, Span<float> dbias,
        int cols, bool accumulate = false, WorkerPool? pool = null)
    {
        int rows = Softmax.CheckRows(x.Length, cols, "x");
        Elementwise.CheckLengths(x.Length, dy.Length, "x", "dy");
        Elementwise.CheckLengths(x.Length, dx.Length, "x", "dx");
        Elementwise.CheckLengths(cols, weight.Length, "cols", "weight");
        Elementwise.CheckLengths(cols, dweight.Length, "cols", "dweight");
        Elementwise.CheckLengths(cols, dbias.Length, "cols", "dbias");
        Elementwise.CheckLengths(rows, mean.Length, "rows", "mean");
        Elementwise.CheckLengths(rows, rstd.Length, "rows", "rstd");
        fixed (float* pdy = dy, px = x, pw = weight, pm = mean, pr = rstd, pdx = dx, pdw = dweight, pdb = dbias)
        {
            var k = new InputGradKernel { DY = pdy, X = px, W = pw, Mean = pm, Rstd = pr, DX = pdx, Cols = cols, Accumulate = accumulate, Centered = true };
            BackwardJob.Run(pool, k, rows, pdw, pdb);
        }
    }

    // Whether AVX-512 rows prefetch the next row (see ForwardKernel.RunAvx512); same bits either way,
    // switchable so the `kernels` suite can time both in one process.
    internal static bool PrefetchNextRow = true;

    private struct ForwardKernel : IRangeKernel
    {
        public float* X, W, B, Y, Mean, Rstd;
        public int Cols;
        public float Eps;

        public readonly void Run(int start, int end)
        {
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Cols >= 16)
            {
                RunAvx512(start, end);
                return;
            }
            int w = Vector<float>.Count;
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * Cols, y = Y + (long)r * Cols;
                float mu = VectorOps.Sum(x, Cols) / Cols;
                float var = VectorOps.SumSquaredDeviation(x, Cols, mu) / Cols;
                float rs = 1f / MathF.Sqrt(var + Eps);
                Mean[r] = mu;
                Rstd[r] = rs;
                var vmu = new Vector<float>(mu);
                var vrs = new Vector<float>(rs);
                int j = 0;
                for (; j <= Cols - w; j += w)
                    VectorOps.Store(y + j, (VectorOps.Load(x + j) - vmu) * vrs * VectorOps.Load(W + j) + VectorOps.Load(B + j));
                for (; j < Cols; j++) y[j] = (x[j] - mu) * rs * W[j] + B[j];
            }
        }

        // The AVX-512 rows: the same three passes and the same arithmetic as above (VectorOps' 16-lane
        // sums, the lanes added in lane order, the tail last; the same per-element expression), so the
        // same bits as every other path (tested). Two differences, both about memory, not arithmetic:
        // the row tail is one masked 16-lane chunk, and each row prefetches the next one. A row is
        // read from DRAM by the first pass, whose sum the second pass needs before it can start, and
        // whose mean and rstd the third needs: the core cannot run ahead into the next row, so
        // between one row's first pass and the next row's, DRAM only works if a prefetcher asks it
        // to. The second pass (x from L1) prefetches the next row's x line by line, the third its y
        // lines, so the store misses of the next row find their lines already on the way. Measured
        // in one process under load (`kernels`, LOOM_BENCH_KERNEL_VARIANTS=1): 1.20–1.22× the row without;
        // the AVX2 code with the same prefetch gains as much (docs/PERFORMANCE.md).
        private readonly void RunAvx512(int start, int end)
        {
            int cols = Cols, main = cols & ~15, rem = cols - main;
            bool prefetch = PrefetchNextRow;
            float* lanes = stackalloc float[16];
            var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rem)).AsSingle();
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * cols, y = Y + (long)r * cols;
                // The last row of the share prefetches itself (lines already in cache): no branch in the loops.
                long ahead = prefetch && r + 1 < end ? cols : 0;

                var acc = Vector512<float>.Zero;
                for (int i = 0; i < main; i += 16) acc += Vector512.Load(x + i);
                float s = LaneSum(acc, lanes);
                for (int i = main; i < cols; i++) s += x[i];
                float mu = s / cols;

                var vmu = Vector512.Create(mu);
                acc = Vector512<float>.Zero;
                for (int i = 0; i < main; i += 16)
                {
                    Sse.Prefetch0(x + ahead + i);
                    var d = Vector512.Load(x + i) - vmu;
                    acc += d * d;
                }
                s = LaneSum(acc, lanes);
                for (int i = main; i < cols; i++)
                {
                    float d = x[i] - mu;
                    s += d * d;
                }
                float rs = 1f / MathF.Sqrt(s / cols + Eps);
                Mean[r] = mu;
                Rstd[r] = rs;

                var vrs = Vector512.Create(rs);
                for (int i = 0; i < main; i += 16)
                {
                    Sse.Prefetch0(y + ahead + i);
                    ((Vector512.Load(x + i) - vmu) * vrs * Vector512.Load(W + i) + Vector512.Load(B + i)).Store(y + i);
                }
                if (rem > 0)
                {
                    var z = Vector512<float>.Zero;
                    var t = (Avx512F.MaskLoad(x + main, tail, z) - vmu) * vrs * Avx512F.MaskLoad(W + main, tail, z) + Avx512F.MaskLoad(B + main, tail, z);
                    Avx512F.MaskStore(y + main, tail, t);
                }
            }
        }

        // VectorOps' lane order (lane 0 + lane 1 + … + lane 15), through a 16-float buffer the caller owns.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float LaneSum(Vector512<float> v, float* lanes)
        {
            v.Store(lanes);
            float s = lanes[0];
            for (int j = 1; j < 16; j++) s += lanes[j];
            return s;
        }
    }

    // Shared by LayerNorm (Centered) and RMSNorm (Mean == null). Also sums dy⊙n into DWPart and
    // dy into DBPart (this thread's partial weight gradients; DBPart null for RMSNorm).
    internal struct InputGradKernel : IRangeKernel
    {
        public float* DY, X, W, Mean, Rstd, DX, DWPart, DBPart;
        public int Cols;
        public bool Accumulate, Centered;

        public readonly void Run(int start, int end)
        {
            int w = Vector<float>.Count;
            for (int r = start; r < end; r++)
            {
                float* dy = DY + (long)r * Cols, x = X + (long)r * Cols, dx = DX + (long)r * Cols;
                float mu = Centered ? Mean[r] : 0f, rs = Rstd[r];
                var vmu = new Vector<float>(mu);
                var vrs = new Vector<float>(rs);
                // mean(dn) and mean(dn ⊙ n), dn = dy ⊙ w, n = (x − μ)·rstd.
                var accDn = Vector<float>.Zero;
                var accDnN = Vector<float>.Zero;
                int j = 0;
                // This pass reads dy before the next one writes dx, so dx may alias dy.
                for (; j <= Cols - w; j += w)
                {
                    var d = VectorOps.Load(dy + j);
                    var dn = d * VectorOps.Load(W + j);
                    var n = (VectorOps.Load(x + j) - vmu) * vrs;
                    accDn += dn;
                    accDnN += dn * n;
                    VectorOps.Store(DWPart + j, VectorOps.Load(DWPart + j) + d * n);
                    if (DBPart != null) VectorOps.Store(DBPart + j, VectorOps.Load(DBPart + j) + d);
                }
                float sDn = Vector.Sum(accDn), sDnN = Vector.Sum(accDnN);
                for (; j < Cols; j++)
                {
                    float dn = dy[j] * W[j];
                    float n = (x[j] - mu) * rs;
                    sDn += dn;
                    sDnN += dn * n;
                    DWPart[j] += dy[j] * n;
                    if (DBPart != null) DBPart[j] += dy[j];
                }
                float meanDn = Centered ? sDn / Cols : 0f, meanDnN = sDnN / Cols;
                var vMeanDn = new Vector<float>(meanDn);
                var vMeanDnN = new Vector<float>(meanDnN);
                j = 0;
                for (; j <= Cols - w; j += w)
                {
                    var dn = VectorOps.Load(dy + j) * VectorOps.Load(W + j);
                    var n = (VectorOps.Load(x + j) - vmu) * vrs;
                    var g = (dn - vMeanDn - n * vMeanDnN) * vrs;
                    VectorOps.Store(dx + j, Accumulate ? VectorOps.Load(dx + j) + g : g);
                }
                for (; j < Cols; j++)
                {
                    float n = (x[j] - mu) * rs;
                    float g = (dy[j] * W[j] - meanDn - n * meanDnN) * rs;
                    dx[j] = Accumulate ? dx[j] + g : g;
                }
            }
        }
    }

    // Runs InputGradKernel over row shares, giving each thread a zeroed partial dw (and db) in
    // the caller's scratch, then adds the partials into dw/db in thread order.
    internal struct BackwardJob : IParallelJob
    {
        public InputGradKernel Kernel;
        public float* Scratch;
        public int Rows;

        public static void Run(WorkerPool? pool, in InputGradKernel kernel, int rows, float* dw, float* db)
        {
            pool ??= WorkerPool.Shared;
            int cols = kernel.Cols;
            int threads = pool.ThreadsFor((long)rows * cols * 4, 1 << 14);
            // Two partial vectors per thread, each padded to a cache line so threads never share one.
            int stride = (cols + 15) & ~15;
            float* scratch = CallerScratch.Floats(2L * stride * threads);
            var job = new BackwardJob { Kernel = kernel, Scratch = scratch, Rows = rows };
            if (threads == 1) job.Execute(0, 1);
            else pool.Run(job, threads);
            for (int t = 0; t < threads; t++)
            {
                float* part = scratch + 2L * stride * t;
                VectorOps.AddInPlace(dw, part, cols);
                if (db != null) VectorOps.AddInPlace(db, part + stride, cols);
            }
        }

        public readonly void Execute(int threadIndex, int threadCount)
        {
            int cols = Kernel.Cols, stride = (cols + 15) & ~15;
            InputGradKernel k = Kernel;
            k.DWPart = Scratch + 2L * stride * threadIndex;
            k.DBPart = k.Centered ? k.DWPart + stride : null;
            VectorOps.Clear(k.DWPart, 2 * stride);
            var (s, e) = WorkerPool.Partition(Rows, threadIndex, threadCount);
            k.Run(s, e);
        }
    }
}

/// <summary>RMSNorm over the last axis (Llama).</summary>
public static unsafe class RmsNorm
{
    /// <summary>y = x·rstd·w per row of <paramref name="cols"/>; saves per-row rstd.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, Span<float> rstd,
        int cols, float epsilon = 1e-6f, WorkerPool? pool = null)
    {
        int rows = Softmax.CheckRows(x.Length, cols, "x");
        Elementwise.CheckLengths(x.Length, y.Length, "x", "y");
        Elementwise.CheckOverlap(x, y);
        Elementwise.CheckLengths(cols, weight.Length, "cols", "weight");
        Elementwise.CheckLengths(rows, rstd.Length, "rows", "rstd");
        fixed (float* px = x, pw = weight, py = y, pr = rstd)
        {
            var k = new ForwardKernel { X = px, W = pw, Y = py, Rstd = pr, Cols = cols, Eps = epsilon };
            Ranges.Run(pool, rows, cols * 3L, k);
        }
    }

    /// <summary>Backward: writes dx (or adds when <paramref name="accumulate"/>) and adds to dweight.</summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> rstd,
        Span<float> dx, Span<float> dweight, int cols, bool accumulate = false, WorkerPool? pool = null)
    {
        int rows = Softmax.CheckRows(x.Length, cols, "x");
        Elementwise.CheckLengths(x.Length, dy.Length, "x", "dy");
        Elementwise.CheckLengths(x.Length, dx.Length, "x", "dx");
        Elementwise.CheckLengths(cols, weight.Length, "cols", "weight");
        Elementwise.CheckLengths(cols, dweight.Length, "cols", "dweight");
        Elementwise.CheckLengths(rows, rstd.Length, "rows", "rstd");
        fixed (float* pdy = dy, px = x, pw = weight, pr = rstd, pdx = dx, pdw = dweight)
        {
            var k = new LayerNorm.InputGradKernel { DY = pdy, X = px, W = pw, Mean = null, Rstd = pr, DX = pdx, Cols = cols, Accumulate = accumulate, Centered = false };
            LayerNorm.BackwardJob.Run(pool, k, rows, pdw, null);
        }
    }

    private struct ForwardKernel : IRangeKernel
    {
        public float* X, W, Y, Rstd;
        public int Cols;
        public float Eps;

        public readonly void Run(int start, int end)
        {
            int w = Vector<float>.Count;
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * Cols, y = Y + (long)r * Cols;
                float rs = 1f / MathF.Sqrt(VectorOps.Dot(x, x, Cols) / Cols + Eps);
                Rstd[r] = rs;
                var vrs = new Vector<float>(rs);
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    var zrs = Vector512.Create(rs);
                    for (; j <= Cols - 16; j += 16) (Vector512.Load(x + j) * zrs * Vector512.Load(W + j)).Store(y + j);
                }
                for (; j <= Cols - w; j += w) VectorOps.Store(y + j, VectorOps.Load(x + j) * vrs * VectorOps.Load(W + j));
                for (; j < Cols; j++) y[j] = x[j] * rs * W[j];
            }
        }
    }
}
