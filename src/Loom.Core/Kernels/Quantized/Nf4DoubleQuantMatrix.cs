// An (out × in) NF4 weight whose block absmaxes are double-quantized (Nf4DoubleQuant; QLoRA §3):
//   _nibbles  (out, in/64, 32) bytes: Nf4Blocks' code layout without the absmax (byte j = element j
//             in the low nibble, element j+32 in the high one)
//   _codes    (out·in/64) bytes: the 8-bit dynamic code of each block's absmax, row after row
//   _scales   (⌈out·in/64 / 256⌉) fp32 second-level scales; Offset the absmaxes' mean
// 4.127 bits/weight instead of NF4's 4.5. The NF4 codes are those of plain NF4 (quantized with the
// fp32 absmax, as bitsandbytes does before compressing the statistics), so only the scales differ.
// Few rows (decode): each output row's block scales are decoded once into a stack buffer, then
// QuantizedDot.Nf4 (the strided form, scales stride 1) multiplies the codes with float activations per block — no float row is made.
// Many rows: 128-row panels are dequantized and multiplied with the packed GEMM, as QuantizedMatrix.
using Loom.Core.Tensors;
using Loom.Core.Threading;

namespace Loom.Core.Kernels.Quantized;

/// <summary>NF4 with double-quantized block scales.</summary>
public sealed unsafe class Nf4DoubleQuantMatrix : IQuantizedWeight
{
    private const int PanelRows = 128;
    private const int CodeBytes = Nf4Blocks.Size / 2;   // 32 bytes of nibbles per block

    private readonly NativeBuffer _nibbles;
    private readonly byte[] _codes;
    private readonly float[] _scales;
    [ThreadStatic] private static NativeBuffer? t_scratch;

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <summary>NF4 blocks per row.</summary>
    public int BlocksPerRow => Columns / Nf4Blocks.Size;

    /// <summary>The mean absmax, subtracted before the 8-bit quantization.</summary>
    public float Offset { get; }

    /// <summary>Kernel path (the CPU's best by default; tests force others).</summary>
    public QuantKernelPath Path { get; set; } = QuantKernelPaths.Best;

    /// <inheritdoc/>
    public long ByteLength => _nibbles.ByteLength + _codes.Length + _scales.Length * sizeof(float) + sizeof(float);

    /// <summary>Bytes of the 4-bit codes, row after row.</summary>
    public ReadOnlySpan<byte> Nibbles => new((void*)_nibbles.Pointer, checked((int)_nibbles.ByteLength));

    /// <summary>The 8-bit absmax codes, one per block, row after row.</summary>
    public ReadOnlySpan<byte> AbsmaxCodes => _codes;

    /// <summary>The fp32 scale of each group of 256 absmax codes.</summary>
    public ReadOnlySpan<float> AbsmaxScales => _scales;

    private Nf4DoubleQuantMatrix(int rows, int columns, float offset)
    {
        if (rows <= 0) throw new ArgumentException($"A quantized matrix needs at least one row; got {rows}.");
        if (columns <= 0 || columns % Nf4Blocks.Size != 0) throw new ArgumentException($"NF4 needs a positive multiple of {Nf4Blocks.Size} columns; got {columns}.");
        Rows = rows;
        Columns = columns;
        Offset = offset;
        long blocks = (long)rows * (columns / Nf4Blocks.Size);
        _nibbles = new NativeBuffer(blocks * CodeBytes, zero: false);
        _codes = GC.AllocateUninitializedArray<byte>(checked((int)blocks), pinned: true);
        _scales = GC.AllocateUninitializedArray<float>(Nf4DoubleQuant.Groups(blocks), pinned: true);
    }

    /// <summary>Quantizes the row-major (rows × columns) <paramref name="weights"/> to NF4 and double-quantizes the absmaxes.</summary>
    public static Nf4DoubleQuantMatrix Quantize(ReadOnlySpan<float> weights, int rows, int columns)
    {
        if (weights.Length != (long)rows * columns)
            throw new ArgumentException($"weights has {weights.Length} elements; a ({rows}, {columns}) matrix needs {(long)rows * columns}.");
        using var plain = QuantizedMatrix.Quantize(QuantFormat.NF4, weights, rows, columns);
        return FromPlain(plain);
    }

    /// <summary>Double-quantizes the absmaxes of a plain NF4 matrix (its codes are kept).</summary>
    public static Nf4DoubleQuantMatrix FromPlain(QuantizedMatrix plain)
    {
        ArgumentNullException.ThrowIfNull(plain);
        if (plain.Format != QuantFormat.NF4) throw new ArgumentException($"Double quantization applies to nf4 only; the matrix is {QuantFormatInfo.Name(plain.Format)}.");
        int blocksPerRow = plain.Columns / Nf4Blocks.Size;
        long blocks = (long)plain.Rows * blocksPerRow;
        var absmax = new float[blocks];
        var src = plain.Blocks;
        for (long b = 0; b < blocks; b++) absmax[b] = BitConverter.ToSingle(src.Slice((int)(b * Nf4Blocks.Bytes), 4));
        var codes = new byte[blocks];
        var scales = new float[Nf4DoubleQuant.Groups(blocks)];
        float offset = Nf4DoubleQuant.Quantize(absmax, codes, scales);
        var m = new Nf4DoubleQuantMatrix(plain.Rows, plain.Columns, offset);
        codes.CopyTo(m._codes, 0);
        scales.CopyTo(m._scales, 0);
        byte* dst = (byte*)m._nibbles.Pointer;
        for (long b = 0; b < blocks; b++) src.Slice((int)(b * Nf4Blocks.Bytes + 4), CodeBytes).CopyTo(new Span<byte>(dst + b * CodeBytes, CodeBytes));
        return m;
    }

    /// <summary>Wraps copies of stored parts (e.g. read from a model file); sizes are checked.</summary>
    public static Nf4DoubleQuantMatrix FromParts(int rows, int columns, ReadOnlySpan<byte> nibbles, ReadOnlySpan<byte> absmaxCodes, ReadOnlySpan<float> absmaxScales, float offset)
    {
        var m = new Nf4DoubleQuantMatrix(rows, columns, offset);
        try
        {
            if (nibbles.Length != m._nibbles.ByteLength) throw new ArgumentException($"A ({rows}, {columns}) nf4 matrix has {m._nibbles.ByteLength} bytes of codes; got {nibbles.Length}.");
            if (absmaxCodes.Length != m._codes.Length) throw new ArgumentException($"A ({rows}, {columns}) nf4 matrix has {m._codes.Length} absmax codes; got {absmaxCodes.Length}.");
            if (absmaxScales.Length != m._scales.Length) throw new ArgumentException($"A ({rows}, {columns}) nf4 matrix has {m._scales.Length} double-quantization scales (one per {Nf4DoubleQuant.GroupSize} blocks); got {absmaxScales.Length}.");
            if (!float.IsFinite(offset)) throw new ArgumentException($"The double-quantization offset is {offset}; it must be finite.");
            nibbles.CopyTo(new Span<byte>((void*)m._nibbles.Pointer, nibbles.Length));
            absmaxCodes.CopyTo(m._codes);
            absmaxScales.CopyTo(m._scales);
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    /// <summary>The absmax of block <paramref name="block"/> (row·BlocksPerRow + b) after double quantization.</summary>
    public float Absmax(long block) => Nf4DoubleQuant.Decode(_codes[block], _scales[block / Nf4DoubleQuant.GroupSize], Offset);

    /// <inheritdoc/>
    public void DequantizeRows(int start, int count, Span<float> destination)
    {
        if ((uint)start > Rows || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{start}, {start + count}) are outside 0..{Rows}.");
        if (destination.Length < (long)count * Columns) throw new ArgumentException($"destination has {destination.Length} floats; {count} rows need {(long)count * Columns}.");
        fixed (float* d = destination) DequantizeInto(start, count, d);
    }

    private void DequantizeInto(int start, int count, float* d)
    {
        var levels = Nf4Blocks.Levels;
        int bpr = BlocksPerRow;
        byte* nib = (byte*)_nibbles.Pointer;
        for (int r = 0; r < count; r++)
            for (int b = 0; b < bpr; b++)
            {
                long blk = (long)(start + r) * bpr + b;
                float a = Absmax(blk);
                byte* q = nib + blk * CodeBytes;
                float* y = d + (long)r * Columns + b * Nf4Blocks.Size;
                for (int j = 0; j < CodeBytes; j++)
                {
                    y[j] = levels[q[j] & 0xF] * a;
                    y[j + CodeBytes] = levels[q[j] >> 4] * a;
                }
            }
    }

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false, WorkerPool? pool = null)
    {
        if (x.Length < (long)rows * Columns) throw new ArgumentException($"x has {x.Length} floats; {rows} rows of {Columns} need {(long)rows * Columns}.");
        if (y.Length < (long)rows * Rows) throw new ArgumentException($"y has {y.Length} floats; {rows} rows of {Rows} need {(long)rows * Rows}.");
        if (rows <= 0) return;
        pool ??= WorkerPool.Shared;
        if (rows > QuantizedMatrix.DotRowLimit)
        {
            float* panel = (float*)Scratch((long)PanelRows * Columns * sizeof(float));
            for (int p = 0; p < Rows; p += PanelRows)
            {
                int count = Math.Min(PanelRows, Rows - p);
                DequantizePanel(p, count, panel, pool);
                Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, count, Columns, 1f, x, Columns,
                    new ReadOnlySpan<float>(panel, count * Columns), Columns, accumulate ? 1f : 0f, y.Slice(p), Rows, pool);
            }
            return;
        }
        fixed (float* px = x, py = y)
        fixed (byte* codes = _codes)
        fixed (float* scales = _scales)
        {
            var job = new DotKernel
            {
                Nibbles = (byte*)_nibbles.Pointer, Codes = codes, Scales = scales, Offset = Offset, Path = Path,
                Blocks = BlocksPerRow, K = Columns, N = Rows, R = rows, X = px, Y = py, Accumulate = accumulate,
            };
            Ranges.Run(pool, Rows, (long)Columns / 2 * rows + rows * 16, job, granule: 8);
        }
    }

    /// <inheritdoc/>
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

    private void DequantizePanel(int start, int count, float* panel, WorkerPool pool) =>
        Ranges.Run(pool, count, Columns * 2L, new DequantizeKernel { Matrix = this, Start = start, Out = panel });

    private static byte* Scratch(long bytes)
    {
        if (t_scratch == null || t_scratch.ByteLength < bytes)
        {
            t_scratch?.Dispose();
            t_scratch = new NativeBuffer(Math.Max(bytes, 4096), zero: false, tracked: false);
        }
        return (byte*)t_scratch.Pointer;
    }

    public void Dispose() => _nibbles.Dispose();

    private struct DequantizeKernel : IRangeKernel
    {
        public Nf4DoubleQuantMatrix Matrix;
        public int Start;
        public float* Out;
        public readonly void Run(int start, int end) =>
            Matrix.DequantizeInto(Start + start, end - start, Out + (long)start * Matrix.Columns);
    }

    private struct DotKernel : IRangeKernel
    {
        public byte* Nibbles, Codes;
        public float* Scales, X, Y;
        public float Offset;
        public QuantKernelPath Path;
        public int Blocks, K, N, R;
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            // One row's block scales, decoded once and shared by the R activation rows.
            float* absmax = stackalloc float[Blocks];
            var map = DynamicMap.Values;
            for (int o = start; o < end; o++)
            {
                long first = (long)o * Blocks;
                for (int b = 0; b < Blocks; b++)
                    absmax[b] = map[Codes[first + b]] * Scales[(first + b) / Nf4DoubleQuant.GroupSize] + Offset;
                byte* w = Nibbles + first * CodeBytes;
                for (int r = 0; r < R; r++)
                {
                    float v = QuantizedDot.Nf4(w, Nf4Blocks.Size / 2, absmax, 1, X + (long)r * K, Blocks, Path);
                    float* y = Y + (long)r * N + o;
                    *y = Accumulate ? *y + v : v;
                }
            }
        }
    }
}
