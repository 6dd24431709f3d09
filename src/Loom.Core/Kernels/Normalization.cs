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
using System.Runtime.Intrinsics;
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

    private struct ForwardKernel : IRangeKernel
    {
        public float* X, W, B, Y, Mean, Rstd;
        public int Cols;
        public float Eps;

        public readonly void Run(int start, int end)
        {
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
                if (Vector512.IsHardwareAccelerated)
                {
                    // Same per-element arithmetic as the loops below: same bits on every path.
                    var zmu = Vector512.Create(mu);
                    var zrs = Vector512.Create(rs);
                    for (; j <= Cols - 16; j += 16)
                        ((Vector512.Load(x + j) - zmu) * zrs * Vector512.Load(W + j) + Vector512.Load(B + j)).Store(y + j);
                }
                for (; j <= Cols - w; j += w)
                    VectorOps.Store(y + j, (VectorOps.Load(x + j) - vmu) * vrs * VectorOps.Load(W + j) + VectorOps.Load(B + j));
                for (; j < Cols; j++) y[j] = (x[j] - mu) * rs * W[j] + B[j];
            }
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
