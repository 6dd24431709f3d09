// The 16-row interleaved layout of Q8_0/Q4_0 (InterleavedBlocks) and its kernels (InterleavedDot). References:
// the ggml-layout bytes a matrix was made from (the layout must give them back exactly), QuantizedDot's per-row
// scalar kernels on those ggml rows (the grouped scalar kernel must equal them bit for bit; they are checked
// against dequantize-then-dot in QuantizedMatrixTests), and dequantize-then-dot in double for every SIMD path.
using Loom.Core.Kernels.Quantized;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels.Quantized;

public unsafe class InterleavedBlocksTests
{
    // Random ggml blocks: any payload byte is a valid code (Q8_0 includes −128, which llama.cpp files may hold);
    // the fp16 scale fields get finite values in ±0.02 so products stay finite.
    private static byte[] RandomBlocks(QuantFormat format, int rows, int columns, int seed)
    {
        var rng = new Random(seed);
        int s = QuantFormatInfo.BlockBytes(format);
        var bytes = new byte[(int)QuantFormatInfo.RowBytes(format, columns) * rows];
        rng.NextBytes(bytes);
        int[] scaleOffsets = format switch
        {
            QuantFormat.Q4_K => [0, 2],
            QuantFormat.Q6_K => [208],
            _ => [0],
        };
        for (int b = 0; b < bytes.Length / s; b++)
            foreach (int o in scaleOffsets)
                BitConverter.TryWriteBytes(bytes.AsSpan(b * s + o, 2), (Half)((rng.NextDouble() * 2 - 1) * 0.02));
        return bytes;
    }

    [Theory]
    [InlineData("q8_0", 5)]      // no full group: held as ggml rows
    [InlineData("q8_0", 16)]     // one group, no tail
    [InlineData("q8_0", 37)]     // two groups and a 5-row tail
    [InlineData("q4_0", 16)]
    [InlineData("q4_0", 37)]
    public void BlocksAndDequantizedRowsComeBackAsGgmlLaidThemOut(string name, int rows)
    {
        var format = QuantFormatInfo.Parse(name);
        const int columns = 96;   // 3 blocks: an odd count
        var blocks = RandomBlocks(format, rows, columns, 1);
        using var m = QuantizedMatrix.FromBlocks(format, rows, columns, blocks);
        Assert.Equal(blocks, m.Blocks.ToArray());
        var expected = new float[rows * columns];
        var bytesPerRow = (int)m.RowBytes;
        for (int r = 0; r < rows; r++)
            BlockQuantizer.Dequantize(format, blocks.AsSpan(r * bytesPerRow, bytesPerRow), expected.AsSpan(r * columns, columns));
        var actual = new float[(rows - 3) * columns];
        m.DequantizeRows(3, rows - 3, actual);   // a start inside the first group
        Assert.Equal(expected.AsSpan(3 * columns).ToArray(), actual);
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    public void GroupedScalarKernelEqualsThePerRowScalarKernelBitForBit(string name)
    {
        var format = QuantFormatInfo.Parse(name);
        const int rows = 16, columns = 160;   // 5 blocks
        int blocks = columns / 32;
        var ggml = RandomBlocks(format, rows, columns, 2);
        var group = new byte[ggml.Length];
        var x = TestUtil.Random(3, columns, 1.5f);
        var scratch = new byte[Q8Row.ScratchBytes(columns) + 64];
        var grouped = new float[rows];
        fixed (byte* src = ggml, g = group, sp = scratch)
        fixed (float* px = x, y = grouped)
        {
            byte* aligned = (byte*)(((nint)sp + 63) & ~(nint)63);
            var row = Q8Row.At(aligned, columns);
            Q8Row.Quantize32(px, columns, row);
            InterleavedBlocks.Interleave(format, src, ggml.Length / rows, blocks, g);
            if (format == QuantFormat.Q8_0) InterleavedDot.Q8_0(g, row, blocks, QuantKernelPath.Scalar, y);
            else InterleavedDot.Q4_0(g, row, blocks, QuantKernelPath.Scalar, y);
            for (int r = 0; r < rows; r++)
            {
                byte* w = src + r * (ggml.Length / rows);
                float expected = format == QuantFormat.Q8_0 ? QuantizedDot.Q8_0(w, row, blocks, QuantKernelPath.Scalar) : QuantizedDot.Q4_0(w, row, blocks, QuantKernelPath.Scalar);
                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(grouped[r]))
                    Assert.Fail($"{name} row {r}: grouped {grouped[r]:R}, per-row {expected:R}");
            }
        }
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("q4_k")]
    [InlineData("q6_k")]
    public void EveryPathAgreesWithScalarOnRandomBlocksIncludingExtremeCodes(string name)
    {
        // Random bytes reach every code and scale (Q8_0's −128, Q6_K's int8 scale −128 and code 63, Q4_K's 6-bit
        // scales 63): the integer sums are exact on every path, so only float summation order may differ.
        var format = QuantFormatInfo.Parse(name);
        const int rows = 37, columns = 768;
        var blocks = RandomBlocks(format, rows, columns, 4);
        using var m = QuantizedMatrix.FromBlocks(format, rows, columns, blocks);
        var x = TestUtil.Random(5, 2 * columns, 3f);
        m.Path = QuantKernelPath.Scalar;
        var expected = new float[2 * rows];
        m.Multiply(x, expected, 2);
        double scale = expected.Max(v => Math.Abs((double)v));
        foreach (var path in new[] { QuantKernelPath.Avx2, QuantKernelPath.Vnni, QuantKernelPath.Avx512 })
        {
            if (!QuantKernelPaths.IsSupported(path)) continue;
            m.Path = path;
            var y = new float[2 * rows];
            m.Multiply(x, y, 2);
            TestUtil.Close(TestUtil.ToDouble(expected), y, 1e-5, 1e-6 * scale, $"{name} {path}");
        }
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    public void EveryPathMatchesTheDequantizedProductAcrossGroupsTailsAndThreads(string name)
    {
        // 41 groups and a 7-row tail, 25 blocks per row (odd), split over 2 threads at multiples of 16 rows.
        var format = QuantFormatInfo.Parse(name);
        const int outputs = 16 * 41 + 7, k = 800;
        var w = TestUtil.Random(6, outputs * k, 0.05f);
        using var m = QuantizedMatrix.Quantize(format, w, outputs, k);
        var wq = new float[outputs * k];
        m.DequantizeRows(0, outputs, wq);
        var x = TestUtil.Random(7, 3 * k, 2f);
        using var pool = new WorkerPool(2);
        foreach (var path in Enum.GetValues<QuantKernelPath>())
        {
            if (!QuantKernelPaths.IsSupported(path)) continue;
            m.Path = path;
            var y = new float[3 * outputs];
            m.Multiply(x, y, 3, pool: pool);
            for (int r = 0; r < 3; r++)
                for (int o = 0; o < outputs; o++)
                {
                    // The activations' 8-bit rounding bounds the error: Σ_b (amax_b/127/2)·Σ_{j∈b}|w_j|, plus float slack.
                    double exact = 0, bound = 0, mag = 0;
                    for (int b = 0; b < k / 32; b++)
                    {
                        double amax = 0, wsum = 0;
                        for (int j = 32 * b; j < 32 * b + 32; j++)
                        {
                            double xv = x[r * k + j], wv = wq[o * k + j];
                            exact += xv * wv;
                            mag += Math.Abs(xv * wv);
                            amax = Math.Max(amax, Math.Abs(xv));
                            wsum += Math.Abs(wv);
                        }
                        bound += amax / 127 / 2 * wsum;
                    }
                    double allowed = bound * 1.001 + 1e-5 * mag + 1e-6;
                    Assert.True(Math.Abs(y[r * outputs + o] - exact) <= allowed, $"{name} {path} r {r} o {o}: {y[r * outputs + o]:R} vs dequantized {exact:R} (allowed {allowed:R})");
                }
        }
    }

    [Fact]
    public void AccumulateAddsToEveryRowOfGroupsAndTail()
    {
        const int outputs = 35, k = 64;
        var w = TestUtil.Random(8, outputs * k, 0.05f);
        using var m = QuantizedMatrix.Quantize(QuantFormat.Q4_0, w, outputs, k);
        var x = TestUtil.Random(9, k);
        var plain = new float[outputs];
        m.Multiply(x, plain, 1);
        var y = Enumerable.Range(0, outputs).Select(i => (float)i).ToArray();
        m.Multiply(x, y, 1, accumulate: true);
        for (int o = 0; o < outputs; o++) Assert.Equal(o + plain[o], y[o], 5);
    }
}
