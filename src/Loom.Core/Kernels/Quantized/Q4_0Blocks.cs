// ggml block_q4_0 (ggml-common.h): { ggml_half d; uint8_t qs[16]; } = 18 bytes. Byte j holds
// element j in its low nibble and element j+16 in its high nibble; w = d·(q − 8).
// Quantization follows quantize_row_q4_0_ref: d = max/−8 where max is the signed value of largest
// magnitude (so it maps to q = 0), q = min(15, (int8)(x/d + 8.5)).
namespace Loom.Core.Kernels.Quantized;

internal static class Q4_0Blocks
{
    public const int Size = 32, Bytes = 18;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> y)
    {
        for (int b = 0; b < x.Length / Size; b++)
        {
            var xs = x.Slice(b * Size, Size);
            var blk = y.Slice(b * Bytes, Bytes);
            float amax = 0, max = 0;
            foreach (float v in xs)
                if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
            float d = max / -8f;
            float id = d != 0 ? 1f / d : 0f;
            QuantMath.WriteHalf(blk, 0, d);
            for (int j = 0; j < Size / 2; j++)
            {
                float x0 = xs[j] * id, x1 = xs[Size / 2 + j] * id;
                int q0 = Math.Min(15, (int)(sbyte)(int)(x0 + 8.5f));
                int q1 = Math.Min(15, (int)(sbyte)(int)(x1 + 8.5f));
                blk[2 + j] = (byte)(q0 | q1 << 4);
            }
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> x, Span<float> y)
    {
        for (int b = 0; b < y.Length / Size; b++)
        {
            var blk = x.Slice(b * Bytes, Bytes);
            float d = QuantMath.ReadHalf(blk, 0);
            for (int j = 0; j < Size / 2; j++)
            {
                y[b * Size + j] = d * ((blk[2 + j] & 0xF) - 8);
                y[b * Size + j + Size / 2] = d * ((blk[2 + j] >> 4) - 8);
            }
        }
    }
}
