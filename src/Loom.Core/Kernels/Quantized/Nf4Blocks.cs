// QLoRA's 4-bit NormalFloat (Dettmers et al., 2023, §3 "4-bit NormalFloat Quantization"): 16 levels
// that are the quantiles of N(0, 1) rescaled to [−1, 1] with an exact zero, weights scaled by their
// block's absolute maximum (blocks of 64, as the paper). The 16 values are bitsandbytes'
// (functional.py get_4bit_type("nf4"), the paper's Appendix E), bit-exact as float32.
// Loom's block layout (ggml-style, so the dot kernel unpacks with one shift): { float absmax;
// uint8_t qs[32]; } = 36 bytes; byte j holds element j in its low nibble and element j+32 in its high
// nibble. A weight quantizes to the nearest level (ties to the lower code, as bitsandbytes' decision
// tree compares with "<").
namespace Loom.Core.Kernels.Quantized;

/// <summary>The NF4 code book and its block quantizer.</summary>
public static class Nf4Blocks
{
    /// <summary>Weights per block.</summary>
    public const int Size = 64;

    /// <summary>Bytes per block.</summary>
    public const int Bytes = 36;

    /// <summary>The 16 NormalFloat levels, ascending; code c decodes to Levels[c]·absmax.</summary>
    public static ReadOnlySpan<float> Levels =>
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    internal static void Quantize(ReadOnlySpan<float> x, Span<byte> y)
    {
        for (int b = 0; b < x.Length / Size; b++)
        {
            var xs = x.Slice(b * Size, Size);
            var blk = y.Slice(b * Bytes, Bytes);
            float amax = 0;
            foreach (float v in xs) amax = MathF.Max(amax, MathF.Abs(v));
            BitConverter.TryWriteBytes(blk, amax);
            float inv = amax > 0 ? 1f / amax : 0f;
            for (int j = 0; j < Size / 2; j++)
                blk[4 + j] = (byte)(Code(xs[j] * inv) | Code(xs[j + Size / 2] * inv) << 4);
        }
    }

    internal static void Dequantize(ReadOnlySpan<byte> x, Span<float> y)
    {
        var levels = Levels;
        for (int b = 0; b < y.Length / Size; b++)
        {
            var blk = x.Slice(b * Bytes, Bytes);
            float amax = BitConverter.ToSingle(blk);
            for (int j = 0; j < Size / 2; j++)
            {
                y[b * Size + j] = levels[blk[4 + j] & 0xF] * amax;
                y[b * Size + j + Size / 2] = levels[blk[4 + j] >> 4] * amax;
            }
        }
    }

    /// <summary>The code of the level nearest to <paramref name="v"/> (in [−1, 1]); a tie goes to the lower code.</summary>
    public static int Code(float v)
    {
        var levels = Levels;
        int code = 0;
        // Midpoints between neighbours: v above the midpoint of (c−1, c) moves to c.
        for (int c = 1; c < 16; c++)
            if (v > (levels[c - 1] + levels[c]) * 0.5f) code = c;
        return code;
    }
}
