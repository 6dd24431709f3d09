// A weight matrix (out × in, nn.Linear's layout: each output's row of `in` weights contiguous) held
// as quantized blocks in one aligned native block, and the products a projection needs:
//   Multiply           y[r, o] (+)= Σ_k x[r, k]·W[o, k]   forward
//   MultiplyTransposed dx[r, k] (+)= Σ_o dy[r, o]·W[o, k]  backward to the input (QLoRA: no dW)
// Few rows (decode, small batches): each activation row is quantized once (Q8Row), then every output
// row of W is dotted with all of them while its blocks are in L1 — the weights are read once per call
// and never decoded to floats. Many rows (prefill, training): panels of W are dequantized into a
// thread-local scratch and multiplied with the packed GEMM (ggml also dequantizes for large batches).
// Q4_0 is held interleaved in groups of 16 rows (InterleavedBlocks: llama.cpp's load-time repacking, same
// bytes) for the 16-row kernels of InterleavedDot; Blocks and DequantizeRows undo it.
using Loom.Core.Tensors;
using Loom.Core.Threading;

namespace Loom.Core.Kernels.Quantized;

/// <summary>An (out × in) weight matrix in a <see cref="QuantFormat"/>.</summary>
public sealed unsafe class QuantizedMatrix : IQuantizedWeight
{
    /// <summary>Row counts up to this use the quantized dot products; more dequantize panels for the GEMM.</summary>
    public const int DotRowLimit = 8;

    private const int PanelRows = 128;   // outputs dequantized per GEMM panel: 128 × 3072 floats = 1.5 MB

    private readonly NativeBuffer _data;
    [ThreadStatic] private static NativeBuffer? t_scratch;

    /// <summary>The block format.</summary>
    public QuantFormat Format { get; }

    /// <summary>Output features (rows of W).</summary>
    public int Rows { get; }

    /// <summary>Input features (weights per row; a multiple of the block size).</summary>
    public int Columns { get; }

    /// <summary>Bytes of one row's blocks.</summary>
    public long RowBytes { get; }

    /// <summary>Bytes of all blocks.</summary>
    public long ByteLength => RowBytes * Rows;

    /// <summary>Kernel path (the CPU's best for the format by default, QuantKernelPaths.BestFor; tests force others).</summary>
    public QuantKernelPath Path { get; set; }

    private QuantizedMatrix(QuantFormat format, int rows, int columns)
    {
        if (rows <= 0) throw new ArgumentException($"A quantized matrix needs at least one row; got {rows}.");
        Format = format;
        Path = QuantKernelPaths.BestFor(format);
        Rows = rows;
        Columns = columns;
        RowBytes = QuantFormatInfo.RowBytes(format, columns);
        _data = new NativeBuffer(RowBytes * rows, zero: false);
    }

    /// <summary>Quantizes the row-major (rows × columns) <paramref name="weights"/>, rows in parallel.</summary>
    public static QuantizedMatrix Quantize(QuantFormat format, ReadOnlySpan<float> weights, int rows, int columns, WorkerPool? pool = null)
    {
        if (weights.Length != (long)rows * columns)
            throw new ArgumentException($"weights has {weights.Length} elements; a ({rows}, {columns}) matrix needs {(long)rows * columns}.");
        var m = new QuantizedMatrix(format, rows, columns);
        fixed (float* w = weights)
            Ranges.Run(pool, rows, columns * 8L, new QuantizeKernel { W = w, M = (byte*)m._data.Pointer, F = format, N = columns, RowBytes = m.RowBytes });
        m.Interleave(pool);
        return m;
    }

    /// <summary>Wraps a copy of existing blocks (e.g. read from a file); their size must be rows × RowBytes.</summary>
    public static QuantizedMatrix FromBlocks(QuantFormat format, int rows, int columns, ReadOnlySpan<byte> blocks)
    {
        var m = new QuantizedMatrix(format, rows, columns);
        if (blocks.Length != m.ByteLength)
        {
            m.Dispose();
            throw new ArgumentException($"A ({rows}, {columns}) {QuantFormatInfo.Name(format)} matrix has {(long)rows * QuantFormatInfo.RowBytes(format, columns)} bytes of blocks; got {blocks.Length}.");
        }
        blocks.CopyTo(new Span<byte>((void*)m._data.Pointer, checked((int)m.ByteLength)));
        m.Interleave(null);
        return m;
    }

    /// <summary>
    /// The blocks in ggml's layout, row after row (what GGUF and model files hold). Q4_0 is held interleaved for
    /// its kernels (InterleavedBlocks.Applies), so for it this is a copy made on each call.
    /// </summary>
    public ReadOnlySpan<byte> Blocks
    {
        get
        {
            var all = new ReadOnlySpan<byte>((void*)_data.Pointer, checked((int)ByteLength));
            if (Groups == 0) return all;
            var copy = GC.AllocateUninitializedArray<byte>(all.Length);
            fixed (byte* c = copy)
                for (int r = 0; r < Rows; r++) RowBlocks(r, c + r * RowBytes);
            return copy;
        }
    }

    // Full 16-row groups held interleaved (0 for the formats InterleavedBlocks does not apply to).
    private int Groups => InterleavedBlocks.Applies(Format) ? Rows / InterleavedBlocks.Rows : 0;

    // Rewrites each full group of 16 ggml rows in place as an interleaved group (same size).
    private void Interleave(WorkerPool? pool)
    {
        if (Groups == 0) return;
        Ranges.Run(pool, Groups, RowBytes * InterleavedBlocks.Rows, new InterleaveKernel { M = (byte*)_data.Pointer, F = Format, RowBytes = RowBytes, Blocks = Columns / 32 });
    }

    // Row r's blocks in ggml's layout: a copy out of its group, or the stored row after the last group.
    private void RowBlocks(int r, byte* destination)
    {
        byte* data = (byte*)_data.Pointer;
        int g = r / InterleavedBlocks.Rows;
        if (g < Groups) InterleavedBlocks.Deinterleave(Format, data + (long)g * InterleavedBlocks.Rows * RowBytes, r % InterleavedBlocks.Rows, Columns / 32, destination);
        else Buffer.MemoryCopy(data + r * RowBytes, destination, RowBytes, RowBytes);
    }

    /// <summary>Decodes rows [<paramref name="start"/>, start + count) into <paramref name="destination"/> (count × Columns).</summary>
    public void DequantizeRows(int start, int count, Span<float> destination)
    {
        if ((uint)start > Rows || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{start}, {start + count}) are outside 0..{Rows}.");
        if (destination.Length < (long)count * Columns) throw new ArgumentException($"destination has {destination.Length} floats; {count} rows need {(long)count * Columns}.");
        var kernel = new DequantizeKernel { Matrix = this, Start = start, N = Columns };
        fixed (float* d = destination)
        {
            kernel.Out = d;
            kernel.Run(0, count);
        }
    }

    /// <summary>y (rows × Rows) = x (rows × Columns)·Wᵀ, added to y when <paramref name="accumulate"/>.</summary>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false, WorkerPool? pool = null)
    {
        if (x.Length < (long)rows * Columns) throw new ArgumentException($"x has {x.Length} floats; {rows} rows of {Columns} need {(long)rows * Columns}.");
        if (y.Length < (long)rows * Rows) throw new ArgumentException($"y has {y.Length} floats; {rows} rows of {Rows} need {(long)rows * Rows}.");
        if (rows <= 0) return;
        pool ??= WorkerPool.Shared;
        if (rows > DotRowLimit)
        {
            MultiplyByPanels(x, y, rows, accumulate, pool);
            return;
        }
        fixed (float* px = x, py = y)
        {
            var job = new DotKernel { W = (byte*)_data.Pointer, RowBytes = RowBytes, F = Format, Path = Path, K = Columns, N = Rows, R = rows, X = px, Y = py, Accumulate = accumulate };
            if (QuantFormatInfo.UsesQ8Activations(Format))
            {
                long per = Q8Row.ScratchBytes(Columns);
                byte* s = Scratch(per * rows);
                bool super = Q8Row.UsesSuperBlocks(Format);
                for (int r = 0; r < rows; r++)
                {
                    var row = Q8Row.At(s + per * r, Columns);
                    if (super) Q8Row.Quantize256(px + (long)r * Columns, Columns, row);
                    else Q8Row.Quantize32(px + (long)r * Columns, Columns, row);
                }
                job.Scratch = s;
                job.ScratchPerRow = per;
            }
            job.Groups = Groups;
            // Each output row is one kernel call whichever thread makes it, so the shares may be balanced (WorkerPool.Balanced).
            Ranges.RunBalanced(pool, Rows, RowBytes * rows / 4 + rows * 16, job, granule: InterleavedBlocks.Rows);
        }
    }

    /// <summary>dx (rows × Columns) = dy (rows × Rows)·W, added to dx when <paramref name="accumulate"/>.</summary>
    public void MultiplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, int rows, bool accumulate = false, WorkerPool? pool = null)
    {
        if (dy.Length < (long)rows * Rows) throw new ArgumentException($"dy has {dy.Length} floats; {rows} rows of {Rows} need {(long)rows * Rows}.");
        if (dx.Length < (long)rows * Columns) throw new ArgumentException($"dx has {dx.Length} floats; {rows} rows of {Columns} need {(long)rows * Columns}.");
        if (rows <= 0) return;
        pool ??= WorkerPool.Shared;
        float* panel = (float*)Scratch((long)PanelRows * Columns * sizeof(float));
        for (int p = 0; p < Rows; p += PanelRows)
        {
            int count = Math.Min(PanelRows, Rows - p);
            DequantizePanel(p, count, panel, pool);
            Gemm.Sgemm(Transpose.No, Transpose.No, rows, Columns, count, 1f, dy.Slice(p), Rows,
                new ReadOnlySpan<float>(panel, count * Columns), Columns, accumulate || p > 0 ? 1f : 0f, dx, Columns, pool);
        }
    }

    private void MultiplyByPanels(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate, WorkerPool pool)
    {
        float* panel = (float*)Scratch((long)PanelRows * Columns * sizeof(float));
        for (int p = 0; p < Rows; p += PanelRows)
        {
            int count = Math.Min(PanelRows, Rows - p);
            DequantizePanel(p, count, panel, pool);
            Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, count, Columns, 1f, x, Columns,
                new ReadOnlySpan<float>(panel, count * Columns), Columns, accumulate ? 1f : 0f, y.Slice(p), Rows, pool);
        }
    }

    private void DequantizePanel(int start, int count, float* panel, WorkerPool pool) =>
        Ranges.Run(pool, count, Columns * 2L, new DequantizeKernel { Matrix = this, Start = start, N = Columns, Out = panel });

    // One buffer per calling thread, grown to the largest request: no allocation per call.
    private static byte* Scratch(long bytes)
    {
        if (t_scratch == null || t_scratch.ByteLength < bytes)
        {
            t_scratch?.Dispose();
            t_scratch = new NativeBuffer(Math.Max(bytes, 4096), zero: false, tracked: false);
        }
        return (byte*)t_scratch.Pointer;
    }

    public void Dispose() => _data.Dispose();

    private struct QuantizeKernel : IRangeKernel
    {
        public float* W;
        public byte* M;
        public QuantFormat F;
        public int N;
        public long RowBytes;
        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
                BlockQuantizer.Quantize(F, new ReadOnlySpan<float>(W + (long)r * N, N), new Span<byte>(M + r * RowBytes, (int)RowBytes));
        }
    }

    // Rows [Start + start, Start + end) decoded to Out rows [start, end); interleaved rows go through a row of
    // ggml blocks in a buffer per range (stack up to 16 KB: a 3,072-wide Q8_0 row is 3.3 KB).
    private struct DequantizeKernel : IRangeKernel
    {
        public QuantizedMatrix Matrix;
        public float* Out;
        public int Start, N;
        public readonly void Run(int start, int end)
        {
            var m = Matrix;
            int bytes = (int)m.RowBytes;
            if (m.Groups == 0)
            {
                for (int r = start; r < end; r++)
                    BlockQuantizer.Dequantize(m.Format, new ReadOnlySpan<byte>((byte*)m._data.Pointer + (Start + r) * m.RowBytes, bytes), new Span<float>(Out + (long)r * N, N));
                return;
            }
            Span<byte> row = bytes <= 16384 ? stackalloc byte[bytes] : new byte[bytes];
            fixed (byte* p = row)
                for (int r = start; r < end; r++)
                {
                    m.RowBlocks(Start + r, p);
                    BlockQuantizer.Dequantize(m.Format, row, new Span<float>(Out + (long)r * N, N));
                }
        }
    }

    private struct InterleaveKernel : IRangeKernel
    {
        public byte* M;
        public QuantFormat F;
        public long RowBytes;
        public int Blocks;
        public readonly void Run(int start, int end)
        {
            long groupBytes = RowBytes * InterleavedBlocks.Rows;
            var rows = new byte[groupBytes];   // once per range at load time: the group's ggml rows
            fixed (byte* r = rows)
                for (int g = start; g < end; g++)
                {
                    Buffer.MemoryCopy(M + g * groupBytes, r, groupBytes, groupBytes);
                    InterleavedBlocks.Interleave(F, r, RowBytes, Blocks, M + g * groupBytes);
                }
        }
    }

    private struct DotKernel : IRangeKernel
    {
        public byte* W, Scratch;
        public long RowBytes, ScratchPerRow;
        public QuantFormat F;
        public QuantKernelPath Path;
        public int K, N, R, Groups;
        public float* X, Y;
        public bool Accumulate;

        // The format is switched on once per range, not per row: the head's 50,257 rows are short (768 weights), so
        // per-row overhead shows.
        public readonly void Run(int start, int end)
        {
            int o0 = start;
            if (Groups > 0) o0 = RunGroups(start, end);
            switch (F)
            {
                case QuantFormat.Q8_0: for (int o = o0; o < end; o++) for (int r = 0; r < R; r++) Store(o, r, QuantizedDot.Q8_0(W + o * RowBytes, Row(r), K / 32, Path)); break;
                case QuantFormat.Q4_0: for (int o = o0; o < end; o++) for (int r = 0; r < R; r++) Store(o, r, QuantizedDot.Q4_0(W + o * RowBytes, Row(r), K / 32, Path)); break;
                case QuantFormat.Q4_K: for (int o = start; o < end; o++) for (int r = 0; r < R; r++) Store(o, r, QuantizedDot.Q4_K(W + o * RowBytes, Row(r), K / 256, Path)); break;
                case QuantFormat.Q6_K: for (int o = start; o < end; o++) for (int r = 0; r < R; r++) Store(o, r, QuantizedDot.Q6_K(W + o * RowBytes, Row(r), K / 256, Path)); break;
                case QuantFormat.F16: for (int o = start; o < end; o++) for (int r = 0; r < R; r++) Store(o, r, QuantizedDot.F16(W + o * RowBytes, X + (long)r * K, K, Path)); break;
                default: for (int o = start; o < end; o++) for (int r = 0; r < R; r++) Store(o, r, QuantizedDot.Nf4(W + o * RowBytes, X + (long)r * K, K / 64, Path)); break;
            }
        }

        // The interleaved groups overlapping [start, end), 16 rows per kernel call (Ranges splits at multiples of 16,
        // so a range cuts a group only if a caller splits otherwise; then the whole group is computed and the
        // range's rows kept). Returns the first row after them: the ggml-layout rows past the last group.
        private readonly int RunGroups(int start, int end)
        {
            const int G = InterleavedBlocks.Rows;
            float* y = stackalloc float[G];
            int last = Math.Min(end, Groups * G), o = start;
            while (o < last)
            {
                int g = o / G, stop = Math.Min(last, (g + 1) * G);
                byte* group = W + (long)g * G * RowBytes;
                for (int r = 0; r < R; r++)
                {
                    if (F == QuantFormat.Q8_0) InterleavedDot.Q8_0(group, Row(r), K / 32, Path, y);
                    else InterleavedDot.Q4_0(group, Row(r), K / 32, Path, y);
                    for (int i = o; i < stop; i++) Store(i, r, y[i - g * G]);
                }
                o = stop;
            }
            return Math.Max(o, start);
        }

        private readonly Q8Row Row(int r) => Q8Row.At(Scratch + ScratchPerRow * r, K);

        private readonly void Store(int o, int r, float v)
        {
            float* y = Y + (long)r * N + o;
            *y = Accumulate ? *y + v : v;
        }
    }
}
