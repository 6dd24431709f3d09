// Q8Row.Quantize32 (the vector path where the CPU has AVX-512F) against its scalar reference loop, which follows
// ggml's quantize_row_q8_0 (nearest_int rounding; the fixture tests of BlockQuantizerTests check the same rounding
// for Q8_0 weights against gguf-py). Under DOTNET_EnableAVX512F=0 both calls run the reference and the test is trivial.
using Loom.Core.Kernels.Quantized;

namespace Loom.Core.Tests.Kernels.Quantized;

public unsafe class Q8ActivationsTests
{
    [Fact]
    public void Quantize32WritesTheReferenceBytesScalesAndSums()
    {
        const int n = 32 * 9;
        var x = TestUtil.Random(1, n, 3f);
        for (int j = 32; j < 64; j++) x[j] = 0;                      // an all-zero block: d = 0, q = 0
        for (int j = 64; j < 96; j++) x[j] *= 1e-30f;                // tiny values
        x[100] = 1e6f; x[130] = -7.5f; x[131] = 7.5f;                // a large outlier; ties in magnitude
        for (int j = 160; j < 192; j++) x[j] = (j % 5 - 2) * 0.5f;   // values landing on .5 after scaling
        long bytes = Q8Row.ScratchBytes(n) + 64;
        var a = new byte[bytes];
        var b = new byte[bytes];
        fixed (float* px = x)
        fixed (byte* pa = a, pb = b)
        {
            var ra = Q8Row.At((byte*)(((nint)pa + 63) & ~(nint)63), n);
            var rb = Q8Row.At((byte*)(((nint)pb + 63) & ~(nint)63), n);
            Q8Row.Quantize32(px, n, ra);
            Q8Row.Quantize32Reference(px, n, rb);
            for (int j = 0; j < n; j++)
                if (ra.Qs[j] != rb.Qs[j]) Assert.Fail($"q[{j}] (x {x[j]:R}): {ra.Qs[j]}, reference {rb.Qs[j]}");
            for (int k = 0; k < n / 32; k++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(rb.D[k]), BitConverter.SingleToInt32Bits(ra.D[k]));
                Assert.Equal(rb.Sums[k], ra.Sums[k]);
            }
        }
    }
}
