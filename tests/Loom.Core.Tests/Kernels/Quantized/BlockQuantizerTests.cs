// BlockQuantizer against the reference blocks in Fixtures/ (made by make_quant_fixture.py from
// llama.cpp's gguf-py numpy quantizers for Q8_0/Q4_0, numpy ports of ggml's quantize_row_q4_K_ref /
// quantize_row_q6_K_ref, and bitsandbytes' NF4 levels): decoding the reference blocks must equal the
// reference decoding exactly (the byte layout), and our quantizer must make the same blocks up to one
// rounding step per weight (ggml's C may fuse multiply-adds, numpy does not).
using Loom.Core.Kernels.Quantized;

namespace Loom.Core.Tests.Kernels.Quantized;

public class BlockQuantizerTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Kernels", "Quantized", "Fixtures", name);

    internal static float[] ReadF32(string name) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Fixture(name))).ToArray();

    public const int Rows = 6, N = 512;

    public static TheoryData<string> Formats => new() { "q8_0", "q4_0", "q4_k", "q6_k", "nf4" };

    [Theory, MemberData(nameof(Formats))]
    public void DequantizeOfReferenceBlocksEqualsReferenceExactly(string name)
    {
        var format = QuantFormatInfo.Parse(name);
        var blocks = File.ReadAllBytes(Fixture(name + ".blocks"));
        var expected = ReadF32(name + ".dequant.f32");
        Assert.Equal(Rows * QuantFormatInfo.RowBytes(format, N), blocks.Length);
        var actual = BlockQuantizer.Dequantize(format, blocks, Rows * N);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]) || expected[i] == actual[i],
                $"{name} element {i}: reference {expected[i]:R}, ours {actual[i]:R}");
    }

    [Theory, MemberData(nameof(Formats))]
    public void QuantizeMatchesReferenceWithinOneRoundingStep(string name)
    {
        var format = QuantFormatInfo.Parse(name);
        var x = ReadF32("rows.f32");
        var reference = File.ReadAllBytes(Fixture(name + ".blocks"));
        var refDeq = ReadF32(name + ".dequant.f32");
        long rowBytes = QuantFormatInfo.RowBytes(format, N);
        var ours = new byte[reference.Length];
        for (int r = 0; r < Rows; r++)
            BlockQuantizer.Quantize(format, x.AsSpan(r * N, N), ours.AsSpan((int)(r * rowBytes), (int)rowBytes));
        var deq = BlockQuantizer.Dequantize(format, ours, Rows * N);
        int same = 0;
        for (int i = 0; i < ours.Length; i++) if (ours[i] == reference[i]) same++;
        // Most bytes are identical; a differing one is a weight (or scale) one step away.
        Assert.True(same >= 0.98 * ours.Length, $"{name}: only {same} of {ours.Length} bytes equal the reference blocks");
        for (int i = 0; i < deq.Length; i++)
        {
            double step = Step(format, reference, i);
            Assert.True(Math.Abs(deq[i] - refDeq[i]) <= step * 1.001 + 1e-12,
                $"{name} element {i}: reference dequantizes to {refDeq[i]:R}, ours to {deq[i]:R}; one step is {step:R}");
        }
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("nf4")]
    public void NearestLevelFormatsRoundEachWeightToWithinHalfAStep(string name)
    {
        // The bound is the format's definition: Q8_0 and NF4 put each weight on the nearest level of its
        // block (Q8_0's levels computed with the float scale, decoded with its fp16 rounding: at most
        // 127·2⁻¹¹ of a step more).
        var format = QuantFormatInfo.Parse(name);
        var x = ReadF32("rows.f32");
        var blocks = BlockQuantizer.Quantize(format, x);
        var deq = BlockQuantizer.Dequantize(format, blocks, x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double step = Step(format, blocks, i);
            double allowed = format == QuantFormat.Q8_0 ? step * (0.5 + 127.0 / 2048) : step * 0.5 * 1.0001;
            Assert.True(Math.Abs(deq[i] - x[i]) <= allowed + 1e-9, $"{name} element {i}: {x[i]:R} → {deq[i]:R}, step {step:R}");
        }
    }

    [Fact]
    public void LayoutSizesAreGgmls()
    {
        // ggml-common.h static_asserts: sizeof(block_q8_0) = 34, q4_0 = 18, q4_K = 144, q6_K = 210.
        Assert.Equal(34, QuantFormatInfo.BlockBytes(QuantFormat.Q8_0));
        Assert.Equal(18, QuantFormatInfo.BlockBytes(QuantFormat.Q4_0));
        Assert.Equal(144, QuantFormatInfo.BlockBytes(QuantFormat.Q4_K));
        Assert.Equal(210, QuantFormatInfo.BlockBytes(QuantFormat.Q6_K));
        Assert.Equal(36, QuantFormatInfo.BlockBytes(QuantFormat.NF4));
        var e = Assert.Throws<ArgumentException>(() => QuantFormatInfo.RowBytes(QuantFormat.Q4_K, 100));
        Assert.Contains("multiple of 256", e.Message);
        Assert.Throws<ArgumentException>(() => QuantFormatInfo.Parse("q5_k"));
    }

    // The spacing of weight i's quantization levels in the given blocks.
    internal static double Step(QuantFormat format, byte[] blocks, int i)
    {
        int bs = QuantFormatInfo.BlockSize(format), bb = QuantFormatInfo.BlockBytes(format);
        var blk = blocks.AsSpan(i / bs * bb, bb);
        int k = i % bs;
        static float H(ReadOnlySpan<byte> b, int o) => (float)BitConverter.UInt16BitsToHalf((ushort)(b[o] | b[o + 1] << 8));
        switch (format)
        {
            case QuantFormat.Q8_0:
            case QuantFormat.Q4_0:
                return Math.Abs(H(blk, 0));
            case QuantFormat.Q4_K:
            {
                int j = k / 32;
                var s = blk.Slice(4, 12);
                int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 0xF) | (s[j - 4] >> 6) << 4;
                return Math.Abs(H(blk, 0) * sc);
            }
            case QuantFormat.Q6_K:
                return Math.Abs(H(blk, 208) * (sbyte)blk[192 + k / 16]);
            default:
            {
                float amax = BitConverter.ToSingle(blk);
                double gap = 0;
                var lv = Nf4Blocks.Levels;
                for (int c = 1; c < 16; c++) gap = Math.Max(gap, lv[c] - lv[c - 1]);
                return gap * amax;
            }
        }
    }
}
