using Loom.Core.Kernels;
using Loom.Core.Tensors;

namespace Loom.Core.Tests.Kernels;

public class PrecisionTests
{
    // Reference bf16 rounding written independently: pick the nearer of the two truncations, ties to even mantissa.
    private static ushort RefBf16(float f)
    {
        if (float.IsNaN(f)) return 0x7FC0;
        uint u = BitConverter.SingleToUInt32Bits(f);
        uint lo = u & 0xFFFF0000u, hi = lo + 0x10000u;
        double dlo = Math.Abs((double)BitConverter.UInt32BitsToSingle(lo) - f);
        double dhi = Math.Abs((double)(hi == 0x7F800000u || hi == 0xFF800000u ? (f > 0 ? double.MaxValue : double.MinValue) : BitConverter.UInt32BitsToSingle(hi)) - f);
        if ((u & 0xFFFF) == 0x8000) return (ushort)((lo >> 16) + ((lo >> 16) & 1)); // tie → even
        if ((u & 0xFFFF) > 0x8000) return (ushort)(hi >> 16);
        return (ushort)(lo >> 16);
    }

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void BFloat16RoundTripsAndRoundsToNearestEven(int n)
    {
        var rng = new Random(n);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 0x7F7FFFFF) | (rng.Next(2) == 0 ? 0 : 0x80000000u));
        if (n > 3) { x[0] = BitConverter.UInt32BitsToSingle(0x3F808000); x[1] = BitConverter.UInt32BitsToSingle(0x3F818000); x[2] = float.NaN; }
        var b = new BFloat16[n];
        Precision.ToBFloat16(x, b);
        for (int i = 0; i < n; i++)
        {
            if (float.IsNaN(x[i])) Assert.True(float.IsNaN((float)b[i]));
            else Assert.Equal(RefBf16(x[i]), b[i].Bits);
            Assert.Equal(b[i], (BFloat16)x[i]); // scalar and vector paths agree
        }
        var back = new float[n];
        Precision.ToSingle(b, back);
        for (int i = 0; i < n; i++)
            if (!float.IsNaN(x[i])) Assert.Equal((float)b[i], back[i]);
    }

    [Fact]
    public void TiesRoundToEven()
    {
        Assert.Equal(0x3F80, ((BFloat16)BitConverter.UInt32BitsToSingle(0x3F808000)).Bits); // 1.0 + half ulp → 1.0 (even)
        Assert.Equal(0x3F82, ((BFloat16)BitConverter.UInt32BitsToSingle(0x3F818000)).Bits); // odd + half ulp → up
        Assert.Equal(0x7F80, ((BFloat16)float.PositiveInfinity).Bits);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(1000)]
    public void HalfMatchesBclConversion(int n)
    {
        var x = TestUtil.Random(n, n, 70000f);
        var h = new Half[n];
        Precision.ToHalf(x, h);
        var back = new float[n];
        Precision.ToSingle(h, back);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal((Half)x[i], h[i]);
            Assert.Equal((float)(Half)x[i], back[i]);
        }
    }
}
