// NF4 double quantization against Fixtures/make_double_quant_fixture.py (numpy/torch, written from
// QLoRA §3 and bitsandbytes' quantize_4bit(compress_statistics=True)): the dynamic 8-bit map bit for
// bit, the absmax codes exactly, the decoded weights within float rounding; and the matrix products
// (every kernel path) against dequantize-then-multiply in double.
using Loom.Core.Kernels.Quantized;
using static Loom.Core.Tests.Kernels.Quantized.BlockQuantizerTests;

namespace Loom.Core.Tests.Kernels.Quantized;

public class Nf4DoubleQuantTests
{
    private const int Rows = 40, Columns = 512;

    [Fact]
    public void DynamicMapEqualsBitsandbytesCreateDynamicMap()
    {
        var reference = ReadF32("dq_map.f32");
        Assert.Equal(256, reference.Length);
        for (int i = 0; i < 256; i++)
            Assert.True(BitConverter.SingleToInt32Bits(reference[i]) == BitConverter.SingleToInt32Bits(DynamicMap.Values[i]), $"value {i}: reference {reference[i]:R}, Loom {DynamicMap.Values[i]:R}");
    }

    [Fact]
    public void CodesScalesAndDecodedWeightsEqualTheReference()
    {
        var w = ReadF32("dq_weights.f32");
        using var m = Nf4DoubleQuantMatrix.Quantize(w, Rows, Columns);
        var codes = File.ReadAllBytes(Fixture("dq_codes.u8"));
        Assert.Equal(codes, m.AbsmaxCodes.ToArray());
        Assert.Equal(ReadF32("dq_scales.f32"), m.AbsmaxScales.ToArray());
        float offset = ReadF32("dq_offset.f32")[0];
        Assert.True(Math.Abs(m.Offset - offset) <= 1e-7f * offset, $"offset {m.Offset:R}, reference {offset:R}");

        var reference = ReadF32("dq_dequant.f32");
        var mine = new float[Rows * Columns];
        m.DequantizeRows(0, Rows, mine);
        for (int i = 0; i < mine.Length; i++)
            Assert.True(Math.Abs(mine[i] - reference[i]) <= 1e-6f * Math.Abs(reference[i]) + 1e-12f, $"weight {i}: Loom {mine[i]:R}, reference {reference[i]:R}");
    }

    [Fact]
    public void ItHoldsAbout4Point13BitsPerWeightAndKeepsPlainNf4Codes()
    {
        var w = ReadF32("dq_weights.f32");
        using var m = Nf4DoubleQuantMatrix.Quantize(w, Rows, Columns);
        // 320 blocks × (32 code bytes + 1 absmax code) + 2 group scales + the offset.
        Assert.Equal(320 * 33 + 2 * 4 + 4, m.ByteLength);
        Assert.InRange(8.0 * m.ByteLength / w.Length, 4.12, 4.14);
        using var plain = QuantizedMatrix.Quantize(QuantFormat.NF4, w, Rows, Columns);
        for (int b = 0; b < 320; b++)
            Assert.Equal(plain.Blocks.Slice(b * 36 + 4, 32).ToArray(), m.Nibbles.Slice(b * 32, 32).ToArray());
        // The fixture's absmaxes are plain NF4's.
        var absmax = ReadF32("dq_absmax.f32");
        for (int b = 0; b < 320; b++) Assert.Equal(absmax[b], BitConverter.ToSingle(plain.Blocks.Slice(b * 36, 4)));
    }

    public static TheoryData<QuantKernelPath, int> Paths()
    {
        var d = new TheoryData<QuantKernelPath, int>();
        foreach (var p in Enum.GetValues<QuantKernelPath>())
            foreach (int rows in new[] { 1, 3, 8, 11 })
                if (QuantKernelPaths.IsSupported(p)) d.Add(p, rows);
        return d;
    }

    [Theory, MemberData(nameof(Paths))]
    public void ProductsEqualDequantizeThenMultiply(QuantKernelPath path, int rows)
    {
        var w = ReadF32("dq_weights.f32");
        using var m = Nf4DoubleQuantMatrix.Quantize(w, Rows, Columns);
        m.Path = path;
        var deq = new float[Rows * Columns];
        m.DequantizeRows(0, Rows, deq);
        var rng = new Random(7);
        var x = new float[rows * Columns];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[rows * Rows];
        Array.Fill(y, 0.5f);
        m.Multiply(x, y, rows, accumulate: true);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < Rows; o++)
            {
                double s = 0, mag = 0;
                for (int k = 0; k < Columns; k++) { s += (double)x[r * Columns + k] * deq[o * Columns + k]; mag += Math.Abs((double)x[r * Columns + k] * deq[o * Columns + k]); }
                Assert.True(Math.Abs(y[r * Rows + o] - 0.5 - s) <= 1e-5 * mag + 1e-6, $"{path} row {r} out {o}: {y[r * Rows + o] - 0.5} vs {s}");
            }

        var dy = new float[rows * Rows];
        for (int i = 0; i < dy.Length; i++) dy[i] = (float)(rng.NextDouble() * 2 - 1);
        var dx = new float[rows * Columns];
        m.MultiplyTransposed(dy, dx, rows);
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < Columns; k++)
            {
                double s = 0, mag = 0;
                for (int o = 0; o < Rows; o++) { s += (double)dy[r * Rows + o] * deq[o * Columns + k]; mag += Math.Abs((double)dy[r * Rows + o] * deq[o * Columns + k]); }
                Assert.True(Math.Abs(dx[r * Columns + k] - s) <= 1e-5 * mag + 1e-6, $"dx row {r} in {k}: {dx[r * Columns + k]} vs {s}");
            }
    }

    [Fact]
    public void PartsRoundTripAndWrongSizesAreNamed()
    {
        var w = ReadF32("dq_weights.f32");
        using var m = Nf4DoubleQuantMatrix.Quantize(w, Rows, Columns);
        using var back = Nf4DoubleQuantMatrix.FromParts(Rows, Columns, m.Nibbles, m.AbsmaxCodes, m.AbsmaxScales, m.Offset);
        var a = new float[w.Length];
        var b = new float[w.Length];
        m.DequantizeRows(0, Rows, a);
        back.DequantizeRows(0, Rows, b);
        Assert.Equal(a, b);
        var e = Assert.Throws<ArgumentException>(() => Nf4DoubleQuantMatrix.FromParts(Rows, Columns, m.Nibbles, m.AbsmaxCodes, m.AbsmaxScales[..1], m.Offset));
        Assert.Contains("double-quantization scales", e.Message);
    }
}
