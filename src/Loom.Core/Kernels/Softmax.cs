// Row softmax with the masks attention needs, and its backward.
//   y_j = exp(x_j − max) / Σ_k exp(x_k − max) over the visible columns; hidden columns get 0.
//   backward: dx_j = y_j (dy_j − Σ_k dy_k y_k)  (the Jacobian of softmax applied to dy).
// Causal: the rows come in groups of QueryRows (one group per (batch, head)); query q of a group
// sees keys j ≤ q + (cols − QueryRows), i.e. the queries are the last QueryRows positions, which
// covers both training (QueryRows = cols) and incremental decoding with a KV cache.
// Key padding: one byte per key (non-zero = real token) for each group of RowsPerMaskRow rows,
// e.g. a (B, T) mask for (B, H, T, T) scores uses RowsPerMaskRow = H·T.
// A row with no visible key is all zeros (not NaN), so padded query rows stay harmless.
// Packed documents (block-diagonal causal, FlashAttention's varlen / HF's DataCollatorWithFlattening):
// one first-visible-key index per (batch, query), shared by the SegmentHeads groups of a batch row;
// query q then sees keys [first, q] only, so documents packed into one row never attend to each other.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Which keys each softmax row may see.</summary>
public readonly ref struct SoftmaxMask
{
    /// <summary>No masking.</summary>
    public static SoftmaxMask None => default;

    /// <summary>Apply the causal mask.</summary>
    public bool Causal { get; init; }

    /// <summary>Rows per causal group (the number of query positions); 0 means "same as the column count".</summary>
    public int QueryRows { get; init; }

    /// <summary>Per-key keep flags (non-zero = keep), <c>cols</c> bytes per mask row; empty for no padding mask.</summary>
    public ReadOnlySpan<byte> KeyPadding { get; init; }

    /// <summary>How many consecutive softmax rows share one row of <see cref="KeyPadding"/>.</summary>
    public int RowsPerMaskRow { get; init; }

    /// <summary>
    /// For causal masks over packed documents: the first key each query may see, one int per (batch, query)
    /// (B·QueryRows), i.e. query t sees keys [FirstVisibleKey[b·T + t], t]; empty for none.
    /// </summary>
    public ReadOnlySpan<int> FirstVisibleKey { get; init; }

    /// <summary>How many consecutive causal groups (heads) share one batch row of <see cref="FirstVisibleKey"/>.</summary>
    public int SegmentHeads { get; init; }

    /// <summary>A causal mask for square (T×T) score blocks.</summary>
    public static SoftmaxMask CausalSquare => new() { Causal = true };

    /// <summary>
    /// A causal mask for square (T×T) score blocks of packed documents: query t of batch row b sees keys
    /// [<paramref name="firstVisibleKey"/>[b·T + t], t]; <paramref name="heads"/> groups per batch row.
    /// </summary>
    public static SoftmaxMask CausalDocuments(ReadOnlySpan<int> firstVisibleKey, int heads) =>
        firstVisibleKey.IsEmpty ? CausalSquare : new() { Causal = true, FirstVisibleKey = firstVisibleKey, SegmentHeads = heads };
}

/// <summary>Row-wise softmax forward and backward.</summary>
public static unsafe class Softmax
{
    /// <summary>y = softmax(x) over each row of <paramref name="cols"/> columns, under <paramref name="mask"/>. In place is allowed.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int cols, SoftmaxMask mask = default, WorkerPool? pool = null)
    {
        int rows = CheckRows(x.Length, cols, "x");
        Elementwise.CheckLengths(x.Length, y.Length, "x", "y");
        Elementwise.CheckOverlap(x, y);
        int queryRows = mask.QueryRows == 0 ? cols : mask.QueryRows;
        if (mask.Causal && (queryRows <= 0 || queryRows > cols))
            throw new ArgumentException($"Causal softmax needs 1 ≤ QueryRows ≤ cols; got QueryRows={mask.QueryRows}, cols={cols}.");
        int rowsPerMask = 0;
        if (!mask.KeyPadding.IsEmpty)
        {
            rowsPerMask = mask.RowsPerMaskRow;
            if (rowsPerMask <= 0) throw new ArgumentException("A key-padding mask needs RowsPerMaskRow ≥ 1.");
            if (mask.KeyPadding.Length % cols != 0 || (long)mask.KeyPadding.Length / cols * rowsPerMask < rows)
                throw new ArgumentException($"The key-padding mask has {mask.KeyPadding.Length} bytes; {rows} rows of {cols} columns at {rowsPerMask} rows per mask row need {(rows + rowsPerMask - 1) / rowsPerMask * (long)cols}.");
        }
        if (!mask.FirstVisibleKey.IsEmpty)
        {
            if (!mask.Causal || mask.SegmentHeads <= 0) throw new ArgumentException("FirstVisibleKey needs a causal mask and SegmentHeads ≥ 1.");
            long groups = rows / queryRows;
            if ((long)mask.FirstVisibleKey.Length * mask.SegmentHeads != groups * queryRows)
                throw new ArgumentException($"FirstVisibleKey has {mask.FirstVisibleKey.Length} entries; {groups} causal groups of {queryRows} queries at {mask.SegmentHeads} groups per batch row need {groups / mask.SegmentHeads * queryRows}.");
            for (int i = 0; i < mask.FirstVisibleKey.Length; i++)
                if ((uint)mask.FirstVisibleKey[i] > (uint)(i % queryRows + cols - queryRows))
                    throw new ArgumentException($"FirstVisibleKey[{i}] = {mask.FirstVisibleKey[i]} is not a key query {i % queryRows} may see (0..{i % queryRows + cols - queryRows}).");
        }
        fixed (float* px = x, py = y)
        fixed (byte* pm = mask.KeyPadding)
        fixed (int* pf = mask.FirstVisibleKey)
        {
            var k = new ForwardKernel { X = px, Y = py, Cols = cols, Causal = mask.Causal, QueryRows = queryRows, Mask = pm, RowsPerMask = rowsPerMask, First = pf, SegmentHeads = mask.SegmentHeads };
            Ranges.Run(pool, rows, cols * 3L, k);
        }
    }

    /// <summary>dx = y ⊙ (dy − rowsum(dy ⊙ y)). dx may be dy (in place).</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int cols, WorkerPool? pool = null)
    {
        int rows = CheckRows(y.Length, cols, "y");
        Elementwise.CheckLengths(y.Length, dy.Length, "y", "dy");
        Elementwise.CheckLengths(y.Length, dx.Length, "y", "dx");
        Elementwise.CheckOverlap(dy, dx);
        fixed (float* py = y, pdy = dy, pdx = dx)
        {
            var k = new BackwardKernel { Y = py, DY = pdy, DX = pdx, Cols = cols };
            Ranges.Run(pool, rows, cols * 3L, k);
        }
    }

    // Whether AVX-512 rows go through the fused routine (ForwardKernel.DenseAvx512) or VectorOps'
    // general one; same bits either way (tested), switchable so the `kernels` suite can compare them.
    internal static bool FusedRowAvx512 = true;

    // Whether the fused AVX-512 rows prefetch the next row's input and output lines while they work
    // on this one (a row's max pass must finish before its exp pass starts, so the core itself does
    // not run ahead to the next row's DRAM lines). Same bits either way; switchable for the suite.
    internal static bool PrefetchNextRow = true;

    internal static int CheckRows(int length, int cols, string name)
    {
        if (cols <= 0) throw new ArgumentOutOfRangeException(nameof(cols), cols, "The row length must be positive.");
        if (length % cols != 0) throw new ArgumentException($"{name} has {length} elements, which is not a whole number of rows of {cols}.");
        return length / cols;
    }

    private struct ForwardKernel : IRangeKernel
    {
        public float* X, Y;
        public byte* Mask;
        public int* First;
        public int Cols, QueryRows, RowsPerMask, SegmentHeads;
        public bool Causal;

        public readonly void Run(int start, int end)
        {
            bool avx512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported && FusedRowAvx512;
            bool prefetch = avx512 && PrefetchNextRow;
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * Cols, y = Y + (long)r * Cols;
                int visible = Causal ? Math.Min(Cols, r % QueryRows + (Cols - QueryRows) + 1) : Cols;
                // Packed documents: keys before the query's document start are hidden (probability 0).
                int first = First == null ? 0 : First[(long)(r / QueryRows / SegmentHeads) * QueryRows + r % QueryRows];
                // The AVX-512 row prefetches the next row as it goes (see DenseAvx512); the last row of
                // the share "prefetches" itself, which keeps the loops free of branches.
                long ahead = prefetch && r + 1 < end ? Cols : 0;
                if (first > 0) VectorOps.Clear(y, first);
                if (Mask == null) Dense(x + first, y + first, visible - first, ahead);
                else Padded(x + first, y + first, visible - first, Mask + (long)(r / RowsPerMask) * Cols + first);
                if (visible < Cols)
                {
                    if (prefetch) ClearAvx512(y + visible, Cols - visible, ahead);
                    else VectorOps.Clear(y + visible, Cols - visible);
                }
            }
        }

        private static void Dense(float* x, float* y, int n, long ahead = 0)
        {
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && FusedRowAvx512)
            {
                DenseAvx512(x, y, n, ahead);
                return;
            }
            float max = VectorOps.Max(x, n);
            float sum = VectorOps.ExpShiftedSum(x, y, n, max);
            VectorOps.Scale(y, y, n, 1f / sum);
        }

        // The hidden keys of a causal row (on average half the row) are zeros written 16 at a time,
        // prefetching the same lines of the next row's output, where a memset call would not.
        private static void ClearAvx512(float* y, int n, long ahead)
        {
            int i = 0;
            for (; i <= n - 16; i += 16)
            {
                Sse.Prefetch0(y + ahead + i);
                Vector512<float>.Zero.Store(y + i);
            }
            if (i < n)
                Avx512F.MaskStore(y + i, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - i)).AsSingle(), Vector512<float>.Zero);
        }

        // The same three passes (max, exp and 16-lane sum, scale by 1/Σ) in one AVX-512 routine, with
        // the row's last ≤ 15 keys as one masked 16-lane chunk: a masked load with −∞ in the hidden
        // lanes (exp(−∞) = 0 adds nothing: VectorOps.ExpShifted's padded tail, same order) and a
        // masked store, where the general routines copy the tail through a stack buffer element by
        // element, reduce the max lane by lane and scale the tail with scalar multiplies. Causal rows
        // have every length 1..T, so that fixed per-row cost was a large share of their exp work, and
        // the AVX-512 causal softmax ran only 1.41–1.67× its AVX2 path (issue 11). The max reduces in
        // registers (max is exact in any order); the sum keeps VectorOps' lane order, so the output is
        // bit-identical to the other paths (tested).
        private static void DenseAvx512(float* x, float* y, int n, long ahead)
        {
            if (n <= 0) return;
            int main = n & ~15, rem = n - main;
            var ninf = Vector512.Create(float.NegativeInfinity);
            var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rem)).AsSingle();
            var xt = rem > 0 ? Avx512F.MaskLoad(x + main, tail, ninf) : ninf;

            // vmaxps (MaxNative), not Vector512.Max: the IEEE maximum that Max promises compiles to
            // vrangeps and two vfixupimmps, three dependent instructions on the loop-carried register
            // per 16 keys. The two differ only for NaN and ±0, and neither changes an output: a NaN
            // key makes Σ and so every output NaN either way, and x − (±0) gives the same exp.
            var vmax = xt;
            for (int i = 0; i < main; i += 16) vmax = Vector512.MaxNative(vmax, Vector512.Load(x + i));
            var m256 = Vector256.MaxNative(vmax.GetLower(), vmax.GetUpper());
            var m128 = Vector128.MaxNative(m256.GetLower(), m256.GetUpper());
            m128 = Vector128.MaxNative(m128, Vector128.Shuffle(m128, Vector128.Create(2, 3, 0, 1)));
            m128 = Vector128.MaxNative(m128, Vector128.Shuffle(m128, Vector128.Create(1, 0, 3, 2)));
            var vm = Vector512.Create(m128.ToScalar());

            var acc = Vector512<float>.Zero;
            for (int i = 0; i < main; i += 16)
            {
                Sse.Prefetch0(x + ahead + i);
                var e = FastMath.ExpNonPositive(Vector512.Load(x + i) - vm);
                e.Store(y + i);
                acc += e;
            }
            var et = FastMath.ExpNonPositive(xt - vm);
            if (rem > 0) acc += et;
            float* lanes = stackalloc float[16];
            acc.Store(lanes);
            float sum = lanes[0];
            for (int j = 1; j < 16; j++) sum += lanes[j];

            var inv = Vector512.Create(1f / sum);
            for (int i = 0; i < main; i += 16)
            {
                Sse.Prefetch0(y + ahead + i);
                (Vector512.Load(y + i) * inv).Store(y + i);
            }
            if (rem > 0) Avx512F.MaskStore(y + main, tail, et * inv);
        }

        // Hidden keys become −∞ in y, then the dense path runs in place: exp(−∞ − max) is exactly 0,
        // so they add nothing to the sum and come out as 0, and the visible keys get the same numbers
        // as a dense row of them (one vector exp per 16 keys instead of a scalar exp per key).
        // Padding masks are runs (a kept prefix, a hidden suffix), so the select goes 16 keys at a time:
        // a chunk whose 16 flags are all non-zero is copied, one whose flags are all zero is filled.
        private static void Padded(float* x, float* y, int n, byte* keep)
        {
            bool any = false;
            int j = 0;
            for (; j <= n - 16; j += 16)
            {
                ulong lo = *(ulong*)(keep + j), hi = *(ulong*)(keep + j + 8);
                if (!HasZeroByte(lo) && !HasZeroByte(hi))
                {
                    new ReadOnlySpan<float>(x + j, 16).CopyTo(new Span<float>(y + j, 16));
                    any = true;
                }
                else if ((lo | hi) == 0) new Span<float>(y + j, 16).Fill(float.NegativeInfinity);
                else any |= SelectScalar(x + j, y + j, keep + j, 16);
            }
            any |= SelectScalar(x + j, y + j, keep + j, n - j);
            if (!any)
            {
                VectorOps.Clear(y, n);
                return;
            }
            Dense(y, y, n);
        }

        // Whether any of the 8 bytes is 0 (the classic SWAR test: Hacker's Delight §6-1).
        private static bool HasZeroByte(ulong v) => ((v - 0x0101010101010101UL) & ~v & 0x8080808080808080UL) != 0;

        private static bool SelectScalar(float* x, float* y, byte* keep, int n)
        {
            bool any = false;
            for (int j = 0; j < n; j++)
            {
                bool k = keep[j] != 0;
                y[j] = k ? x[j] : float.NegativeInfinity;
                any |= k;
            }
            return any;
        }
    }

    private struct BackwardKernel : IRangeKernel
    {
        public float* Y, DY, DX;
        public int Cols;

        public readonly void Run(int start, int end)
        {
            int w = System.Numerics.Vector<float>.Count;
            for (int r = start; r < end; r++)
            {
                float* y = Y + (long)r * Cols, dy = DY + (long)r * Cols, dx = DX + (long)r * Cols;
                float dot = VectorOps.Dot(dy, y, Cols);
                var vdot = new System.Numerics.Vector<float>(dot);
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    var zdot = Vector512.Create(dot);
                    for (; j <= Cols - 16; j += 16)
                        (Vector512.Load(y + j) * (Vector512.Load(dy + j) - zdot)).Store(dx + j);
                }
                for (; j <= Cols - w; j += w)
                    VectorOps.Store(dx + j, VectorOps.Load(y + j) * (VectorOps.Load(dy + j) - vdot));
                for (; j < Cols; j++) dx[j] = y[j] * (dy[j] - dot);
            }
        }
    }
}
