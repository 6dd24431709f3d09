// Row softmax with the masks attention needs, and its backward.
//   y_j = exp(x_j − max) / Σ_k exp(x_k − max) over the visible columns; hidden columns get 0.
//   backward: dx_j = y_j (dy_j − Σ_k dy_k y_k)  (the Jacobian of softmax applied to dy).
// Causal: the rows come in groups of QueryRows (one group per (batch, head)); query q of a group
// sees keys j ≤ q + (cols − QueryRows), i.e. the queries are the last QueryRows positions, which
// covers both training (QueryRows = cols) and incremental decoding with a KV cache.
// Key padding: one byte per key (non-zero = real token) for each group of RowsPerMaskRow rows,
// e.g. a (B, T) mask for (B, H, T, T) scores uses RowsPerMaskRow = H·T.
// A row with no visible key is all zeros (not NaN), so padded query rows stay harmless.
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

    /// <summary>A causal mask for square (T×T) score blocks.</summary>
    public static SoftmaxMask CausalSquare => new() { Causal = true };
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
        fixed (float* px = x, py = y)
        fixed (byte* pm = mask.KeyPadding)
        {
            var k = new ForwardKernel { X = px, Y = py, Cols = cols, Causal = mask.Causal, QueryRows = queryRows, Mask = pm, RowsPerMask = rowsPerMask };
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
        public int Cols, QueryRows, RowsPerMask;
        public bool Causal;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * Cols, y = Y + (long)r * Cols;
                int visible = Causal ? Math.Min(Cols, r % QueryRows + (Cols - QueryRows) + 1) : Cols;
                if (Mask == null) Dense(x, y, visible);
                else Padded(x, y, visible, Mask + (long)(r / RowsPerMask) * Cols);
                if (visible < Cols) VectorOps.Clear(y + visible, Cols - visible);
            }
        }

        private static void Dense(float* x, float* y, int n)
        {
            float max = VectorOps.Max(x, n);
            float sum = VectorOps.ExpShiftedSum(x, y, n, max);
            VectorOps.Scale(y, y, n, 1f / sum);
        }

        private static void Padded(float* x, float* y, int n, byte* keep)
        {
            float max = float.NegativeInfinity;
            for (int j = 0; j < n; j++) if (keep[j] != 0 && x[j] > max) max = x[j];
            if (float.IsNegativeInfinity(max))
            {
                VectorOps.Clear(y, n);
                return;
            }
            float sum = 0f;
            for (int j = 0; j < n; j++)
            {
                float e = keep[j] != 0 ? FastMath.Exp(x[j] - max) : 0f;
                y[j] = e;
                sum += e;
            }
            VectorOps.Scale(y, y, n, 1f / sum);
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
                for (; j <= Cols - w; j += w)
                    VectorOps.Store(dx + j, VectorOps.Load(y + j) * (VectorOps.Load(dy + j) - vdot));
                for (; j < Cols; j++) dx[j] = y[j] * (dy[j] - dot);
            }
        }
    }
}
