// Quantize and dequantize rows of weights in any QuantFormat: the reference (scalar) quantizers that
// make model files, bit-compatible with ggml's *_ref functions for its formats, and the dequantizers
// the prefill path and GGUF readers use. A row is whole blocks; the destination's size is checked
// against QuantFormatInfo.RowBytes.
namespace Loom.Core.Kernels.Quantized;

/// <summary>Row quantization to and from a <see cref="QuantFormat"/>'s blocks.</summary>
public static class BlockQuantizer
{
    /// <summary>Quantizes <paramref name="x"/> (a multiple of the block size) into <paramref name="blocks"/> (exactly RowBytes long).</summary>
    public static void Quantize(QuantFormat format, ReadOnlySpan<float> x, Span<byte> blocks)
    {
        long bytes = QuantFormatInfo.RowBytes(format, x.Length);
        if (blocks.Length != bytes)
            throw new ArgumentException($"{x.Length} weights in {QuantFormatInfo.Name(format)} take {bytes} bytes; the destination has {blocks.Length}.");
        switch (format)
        {
            case QuantFormat.Q8_0: Q8_0Blocks.Quantize(x, blocks); break;
            case QuantFormat.Q4_0: Q4_0Blocks.Quantize(x, blocks); break;
            case QuantFormat.Q4_K: Q4_KBlocks.Quantize(x, blocks); break;
            case QuantFormat.Q6_K: Q6_KBlocks.Quantize(x, blocks); break;
            case QuantFormat.NF4: Nf4Blocks.Quantize(x, blocks); break;
            case QuantFormat.F16: F16Blocks.Quantize(x, blocks); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown quantized format.");
        }
    }

    /// <summary>Quantizes <paramref name="x"/> into a new array of blocks.</summary>
    public static byte[] Quantize(QuantFormat format, ReadOnlySpan<float> x)
    {
        var blocks = new byte[QuantFormatInfo.RowBytes(format, x.Length)];
        Quantize(format, x, blocks);
        return blocks;
    }

    /// <summary>Decodes <paramref name="blocks"/> into <paramref name="y"/> (y.Length weights; blocks exactly RowBytes long).</summary>
    public static void Dequantize(QuantFormat format, ReadOnlySpan<byte> blocks, Span<float> y)
    {
        long bytes = QuantFormatInfo.RowBytes(format, y.Length);
        if (blocks.Length != bytes)
            throw new ArgumentException($"{y.Length} weights in {QuantFormatInfo.Name(format)} take {bytes} bytes; the source has {blocks.Length}.");
        switch (format)
        {
            case QuantFormat.Q8_0: Q8_0Blocks.Dequantize(blocks, y); break;
            case QuantFormat.Q4_0: Q4_0Blocks.Dequantize(blocks, y); break;
            case QuantFormat.Q4_K: Q4_KBlocks.Dequantize(blocks, y); break;
            case QuantFormat.Q6_K: Q6_KBlocks.Dequantize(blocks, y); break;
            case QuantFormat.NF4: Nf4Blocks.Dequantize(blocks, y); break;
            case QuantFormat.F16: F16Blocks.Dequantize(blocks, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown quantized format.");
        }
    }

    /// <summary>Decodes <paramref name="blocks"/> into a new array of <paramref name="count"/> weights.</summary>
    public static float[] Dequantize(QuantFormat format, ReadOnlySpan<byte> blocks, int count)
    {
        var y = new float[count];
        Dequantize(format, blocks, y);
        return y;
    }
}
