// Matrix products with few rows (2..MaxRows): a decode step of a batch of sequences, where each
// projection multiplies (rows, in) activations by a weight that is far bigger than they are. A GEMM
// there packs the whole weight on every call (one more read and write of it) and fills its 12-row
// micro-tiles with padding (16 rows = a 12-row tile + a 4-row tile computed as 12). Measured on GPT-2
// 124M's four projections × 12 layers at 16 rows, 1 thread, CPU time on the loaded 2-core dev machine
// (`bench -- inference --filter phases --threads 1 --cpu-time`): GEMM 84.7 ms, these kernels 36.3 ms,
// one row's matrix-vector product 16.4 ms. These kernels read the weight in place, once from memory,
// and keep it in L1/L2 while every row uses it:
//   ColumnsPanel: y = x·W (+ b),  W stored (K, N) (GPT-2's Conv1D). Each thread takes 32-column
//                 panels of W; per panel, row groups of 8 keep 8 × 2 zmm accumulators while k runs
//                 down the panel (per k: 2 loads of W, 8 broadcasts of x, 16 FMAs). The panel
//                 (K × 128 B) stays in L2 for the next group of rows.
//   RowsDot:      y = x·Wᵀ (+ b), W stored (N, K) (nn.Linear, a tied LM head). Each thread takes
//                 outputs in blocks of 4; per block, row groups of 4 keep 4 × 4 zmm accumulators while
//                 k runs along the rows (per 16 k: 4 loads of W, 4 of x, 16 FMAs), then reduce.
// Rows past the last of a group are computed on the last row again and not stored, so any row count
// takes the same fixed-size kernel. Every element of y is computed by one thread in a fixed order
// (k ascending within the vector lanes, one reduction order), so the result does not depend on the
// thread count. Needs AVX-512 (IsSupported); callers use the GEMM otherwise.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>y = x·W and y = x·Wᵀ for a few rows of x, reading W once.</summary>
public static unsafe class SkinnyMatMul
{
    /// <summary>Most rows these kernels take; above it a GEMM's packing is paid back.</summary>
    public const int MaxRows = 32;

    // Below this many FLOPs per thread, waking another thread costs more than it saves (as Gemm).
    private const long MinFlopsPerThread = 1L << 21;

    /// <summary>True when the AVX-512 kernels can run (DOTNET_EnableAVX512=0 turns them off).</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>Whether a product of <paramref name="rows"/> rows should take these kernels.</summary>
    public static bool Suits(int rows) => IsSupported && rows >= 2 && rows <= MaxRows;

    /// <summary>
    /// y[m×n] = x[m×k]·W[k×n] (+ bias[n] when not empty); added to y when <paramref name="accumulate"/>.
    /// W is stored (k, n) row-major.
    /// </summary>
    public static void ColumnsPanel(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        int m, int k, int n, bool accumulate = false, WorkerPool? pool = null)
    {
        Check(x.Length, weight.Length, bias.Length, y.Length, m, k, n);
        pool ??= WorkerPool.Shared;
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            var job = new ColumnsJob { X = px, W = pw, B = bias.IsEmpty ? null : pb, Y = py, M = m, K = k, N = n, Accumulate = accumulate };
            pool.Run(job, pool.ThreadsFor(2L * m * n * k, MinFlopsPerThread));
        }
    }

    /// <summary>
    /// y[m×n] = x[m×k]·Wᵀ (+ bias[n] when not empty); added to y when <paramref name="accumulate"/>.
    /// W is stored (n, k) row-major.
    /// </summary>
    public static void RowsDot(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        int m, int k, int n, bool accumulate = false, WorkerPool? pool = null)
    {
        Check(x.Length, weight.Length, bias.Length, y.Length, m, k, n);
        pool ??= WorkerPool.Shared;
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            var job = new RowsJob { X = px, W = pw, B = bias.IsEmpty ? null : pb, Y = py, M = m, K = k, N = n, Accumulate = accumulate };
            pool.Run(job, pool.ThreadsFor(2L * m * n * k, MinFlopsPerThread));
        }
    }

    private static void Check(long x, long w, long b, long y, int m, int k, int n)
    {
        if (!IsSupported) throw new NotSupportedException("SkinnyMatMul needs AVX-512 (Avx512F); check SkinnyMatMul.IsSupported and use Gemm otherwise.");
        if (m < 1 || m > MaxRows) throw new ArgumentOutOfRangeException(nameof(m), m, $"SkinnyMatMul takes 1 to {MaxRows} rows; use Gemm for more.");
        if (k < 1 || n < 1) throw new ArgumentException($"Sizes must be positive; got k={k}, n={n}.");
        if (x != (long)m * k) throw new ArgumentException($"x has {x} elements but must be {m}×{k} = {(long)m * k}.");
        if (w != (long)k * n) throw new ArgumentException($"weight has {w} elements but must be {k}×{n} = {(long)k * n}.");
        if (b != 0 && b != n) throw new ArgumentException($"bias has {b} elements but the product has {n} outputs.");
        if (y != (long)m * n) throw new ArgumentException($"y has {y} elements but must be {m}×{n} = {(long)m * n}.");
    }

    // ---- y = x·W, W (K, N) ----

    private struct ColumnsJob : IParallelJob
    {
        public float* X, W, B, Y;
        public int M, K, N;
        public bool Accumulate;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            var (j0, j1) = WorkerPool.PartitionAligned(N, 32, threadIndex, threadCount);
            int j = j0;
            for (; j + 32 <= j1; j += 32)
                for (int r = 0; r < M; r += 8) Panel32(r, j);
            for (; j < j1; j++) Column(j);
        }

        // Rows r..r+7 (clamped to M−1, stored only when < M) × columns j..j+31.
        private readonly void Panel32(int r, int j)
        {
            float* x0 = Row(r), x1 = Row(r + 1), x2 = Row(r + 2), x3 = Row(r + 3), x4 = Row(r + 4), x5 = Row(r + 5), x6 = Row(r + 6), x7 = Row(r + 7);
            Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default,
                a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
            float* w = W + j;
            long ldw = N;
            for (int k = 0; k < K; k++, w += ldw)
            {
                var w0 = Vector512.Load(w);
                var w1 = Vector512.Load(w + 16);
                Vector512<float> s;
                s = Vector512.Create(x0[k]); a0 = Avx512F.FusedMultiplyAdd(s, w0, a0); b0 = Avx512F.FusedMultiplyAdd(s, w1, b0);
                s = Vector512.Create(x1[k]); a1 = Avx512F.FusedMultiplyAdd(s, w0, a1); b1 = Avx512F.FusedMultiplyAdd(s, w1, b1);
                s = Vector512.Create(x2[k]); a2 = Avx512F.FusedMultiplyAdd(s, w0, a2); b2 = Avx512F.FusedMultiplyAdd(s, w1, b2);
                s = Vector512.Create(x3[k]); a3 = Avx512F.FusedMultiplyAdd(s, w0, a3); b3 = Avx512F.FusedMultiplyAdd(s, w1, b3);
                s = Vector512.Create(x4[k]); a4 = Avx512F.FusedMultiplyAdd(s, w0, a4); b4 = Avx512F.FusedMultiplyAdd(s, w1, b4);
                s = Vector512.Create(x5[k]); a5 = Avx512F.FusedMultiplyAdd(s, w0, a5); b5 = Avx512F.FusedMultiplyAdd(s, w1, b5);
                s = Vector512.Create(x6[k]); a6 = Avx512F.FusedMultiplyAdd(s, w0, a6); b6 = Avx512F.FusedMultiplyAdd(s, w1, b6);
                s = Vector512.Create(x7[k]); a7 = Avx512F.FusedMultiplyAdd(s, w0, a7); b7 = Avx512F.FusedMultiplyAdd(s, w1, b7);
            }
            Store(r, j, a0, b0); Store(r + 1, j, a1, b1); Store(r + 2, j, a2, b2); Store(r + 3, j, a3, b3);
            Store(r + 4, j, a4, b4); Store(r + 5, j, a5, b5); Store(r + 6, j, a6, b6); Store(r + 7, j, a7, b7);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly float* Row(int r) => X + (long)Math.Min(r, M - 1) * K;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Store(int r, int j, Vector512<float> lo, Vector512<float> hi)
        {
            if (r >= M) return;
            float* y = Y + (long)r * N + j;
            if (B != null) { lo += Vector512.Load(B + j); hi += Vector512.Load(B + j + 16); }
            if (Accumulate) { lo += Vector512.Load(y); hi += Vector512.Load(y + 16); }
            lo.Store(y);
            hi.Store(y + 16);
        }

        // A column past the last whole panel: plain loops, same k order.
        private readonly void Column(int j)
        {
            for (int r = 0; r < M; r++)
            {
                float* x = X + (long)r * K;
                float s = 0f;
                for (int k = 0; k < K; k++) s = MathF.FusedMultiplyAdd(x[k], W[(long)k * N + j], s);
                if (B != null) s += B[j];
                float* y = Y + (long)r * N + j;
                *y = Accumulate ? *y + s : s;
            }
        }
    }

    // ---- y = x·Wᵀ, W (N, K) ----

    private struct RowsJob : IParallelJob
    {
        public float* X, W, B, Y;
        public int M, K, N;
        public bool Accumulate;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            var (n0, n1) = WorkerPool.PartitionAligned(N, 4, threadIndex, threadCount);
            for (int o = n0; o < n1; o += 4)
                for (int r = 0; r < M; r += 4) Block4x4(r, o, n1);
        }

        // Outputs o..o+3 (clamped to end−1, stored only when < end) × rows r..r+3 (clamped to M−1).
        private readonly void Block4x4(int r, int o, int end)
        {
            float* w0 = W + (long)Math.Min(o, end - 1) * K, w1 = W + (long)Math.Min(o + 1, end - 1) * K,
                w2 = W + (long)Math.Min(o + 2, end - 1) * K, w3 = W + (long)Math.Min(o + 3, end - 1) * K;
            float* x0 = X + (long)Math.Min(r, M - 1) * K, x1 = X + (long)Math.Min(r + 1, M - 1) * K,
                x2 = X + (long)Math.Min(r + 2, M - 1) * K, x3 = X + (long)Math.Min(r + 3, M - 1) * K;
            Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default,
                c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
            int k = 0;
            for (; k + 16 <= K; k += 16)
            {
                var v0 = Vector512.Load(x0 + k); var v1 = Vector512.Load(x1 + k); var v2 = Vector512.Load(x2 + k); var v3 = Vector512.Load(x3 + k);
                var u = Vector512.Load(w0 + k);
                c00 = Avx512F.FusedMultiplyAdd(u, v0, c00); c01 = Avx512F.FusedMultiplyAdd(u, v1, c01); c02 = Avx512F.FusedMultiplyAdd(u, v2, c02); c03 = Avx512F.FusedMultiplyAdd(u, v3, c03);
                u = Vector512.Load(w1 + k);
                c10 = Avx512F.FusedMultiplyAdd(u, v0, c10); c11 = Avx512F.FusedMultiplyAdd(u, v1, c11); c12 = Avx512F.FusedMultiplyAdd(u, v2, c12); c13 = Avx512F.FusedMultiplyAdd(u, v3, c13);
                u = Vector512.Load(w2 + k);
                c20 = Avx512F.FusedMultiplyAdd(u, v0, c20); c21 = Avx512F.FusedMultiplyAdd(u, v1, c21); c22 = Avx512F.FusedMultiplyAdd(u, v2, c22); c23 = Avx512F.FusedMultiplyAdd(u, v3, c23);
                u = Vector512.Load(w3 + k);
                c30 = Avx512F.FusedMultiplyAdd(u, v0, c30); c31 = Avx512F.FusedMultiplyAdd(u, v1, c31); c32 = Avx512F.FusedMultiplyAdd(u, v2, c32); c33 = Avx512F.FusedMultiplyAdd(u, v3, c33);
            }
            Put(r, o, end, Vector512.Sum(c00) + Tail(w0, x0, k)); Put(r + 1, o, end, Vector512.Sum(c01) + Tail(w0, x1, k));
            Put(r + 2, o, end, Vector512.Sum(c02) + Tail(w0, x2, k)); Put(r + 3, o, end, Vector512.Sum(c03) + Tail(w0, x3, k));
            Put(r, o + 1, end, Vector512.Sum(c10) + Tail(w1, x0, k)); Put(r + 1, o + 1, end, Vector512.Sum(c11) + Tail(w1, x1, k));
            Put(r + 2, o + 1, end, Vector512.Sum(c12) + Tail(w1, x2, k)); Put(r + 3, o + 1, end, Vector512.Sum(c13) + Tail(w1, x3, k));
            Put(r, o + 2, end, Vector512.Sum(c20) + Tail(w2, x0, k)); Put(r + 1, o + 2, end, Vector512.Sum(c21) + Tail(w2, x1, k));
            Put(r + 2, o + 2, end, Vector512.Sum(c22) + Tail(w2, x2, k)); Put(r + 3, o + 2, end, Vector512.Sum(c23) + Tail(w2, x3, k));
            Put(r, o + 3, end, Vector512.Sum(c30) + Tail(w3, x0, k)); Put(r + 1, o + 3, end, Vector512.Sum(c31) + Tail(w3, x1, k));
            Put(r + 2, o + 3, end, Vector512.Sum(c32) + Tail(w3, x2, k)); Put(r + 3, o + 3, end, Vector512.Sum(c33) + Tail(w3, x3, k));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly float Tail(float* w, float* x, int k)
        {
            float s = 0f;
            for (; k < K; k++) s = MathF.FusedMultiplyAdd(w[k], x[k], s);
            return s;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Put(int r, int o, int end, float s)
        {
            if (r >= M || o >= end) return;
            if (B != null) s += B[o];
            float* y = Y + (long)r * N + o;
            *y = Accumulate ? *y + s : s;
        }
    }
}
