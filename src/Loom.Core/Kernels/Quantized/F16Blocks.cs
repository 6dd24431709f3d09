// IEEE half-precision weights (ggml GGML_TYPE_F16: 2 bytes per weight, little-endian, no scale), held as a
// "format" so an F16 projection is the same data-plus-one-dot-kernel as the block formats: decode reads half
// the bytes of f32 and widens to float in registers (QuantizedDot.F16). A "block" is one weight.
// Quantization is round-to-nearest-even (numpy's astype(float16), what llama.cpp's converter writes).
using System.Runtime.InteropServices;

namespace Loom.Core.Kernels.Quantized;

internal static class F16Blocks
{
    public const int Size = 1, Bytes = 2;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> y) => Precision.ToHalf(x, MemoryMarshal.Cast<byte, Half>(y));

    public static void Dequantize(ReadOnlySpan<byte> x, Span<float> y) => Precision.ToSingle(MemoryMarshal.Cast<byte, Half>(x), y);
}
