// Scalar helpers shared by the reference quantizers, written to round exactly as ggml-quants.c does:
// nearest_int is the 1.5·2²³ magic-number rounding (round half to even for |x| < 2²²), and fp16
// scales convert with round-to-nearest-even (GGML_FP32_TO_FP16 on F16C hardware).
using System.Runtime.CompilerServices;

namespace Loom.Core.Kernels.Quantized;

internal static class QuantMath
{
    /// <summary>ggml's nearest_int: adds 12582912 (1.5·2²³) so the float's low mantissa bits hold the rounded integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float value)
    {
        float v = value + 12582912f;
        return (BitConverter.SingleToInt32Bits(v) & 0x007fffff) - 0x00400000;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ToHalfBits(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FromHalfBits(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReadHalf(ReadOnlySpan<byte> b, int offset) => FromHalfBits((ushort)(b[offset] | b[offset + 1] << 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteHalf(Span<byte> b, int offset, float value)
    {
        ushort h = ToHalfBits(value);
        b[offset] = (byte)h;
        b[offset + 1] = (byte)(h >> 8);
    }
}
