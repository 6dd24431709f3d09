// ggml block_q8_0 (ggml-common.h): { ggml_half d; int8_t qs[32]; } = 34 bytes, w = d·q.
// Quantization follows quantize_row_q8_0_ref: d = absmax/127, q = roundf(x/d) (half away from zero).
namespace Loom.Core.Kernels.Quantized;

internal static class Q8_0Blocks
{
    public const int Size = 32, Bytes = 34;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> y)
    {
        for (int b = 0; b < x.Length / Size; b++)
        {
            var xs = x.Slice(b * Size, Size);
            var blk = y.Slice(b * Bytes, Bytes);
            float amax = 0;
            foreach (float v in xs) amax = MathF.Max(amax, MathF.Abs(v));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            QuantMath.WriteHalf(blk, 0, d);
            for (int j = 0; j < Size; j++) blk[2 + j] = (byte)(sbyte)MathF.Round(xs[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int b = 0; b < y.Length / Size; b++)
        {
            var blk = x.Slice(b * Bytes, Bytes);
            float d = QuantMath.ReadHalf(blk, 0);
            for (int j = 0; j < Size; j++) y[b * Size + j] = d * (sbyte)blk[2 + j];
        }
    }
}
