// bfloat16 storage type: the high half of an IEEE binary32. .NET 10 has no BFloat16 in the BCL,
// so Loom defines the 2-byte struct it stores; bulk conversion lives in Kernels/Convert.cs.
using System.Runtime.CompilerServices;

namespace Loom.Core.Tensors;

/// <summary>A bfloat16 value (1 sign, 8 exponent, 7 mantissa bits).</summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>The raw 16 bits.</summary>
    public readonly ushort Bits;

    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>Wraps raw bits.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Rounds to nearest, ties to even; NaN stays a (quiet) NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static explicit operator BFloat16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFF_FFFFu) > 0x7F80_0000u) return new BFloat16((ushort)((u >> 16) | 0x0040)); // quiet NaN
        u += 0x7FFFu + ((u >> 16) & 1u);
        return new BFloat16((ushort)(u >> 16));
    }

    /// <summary>Exact widening to binary32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    public bool Equals(BFloat16 other) => Bits == other.Bits;
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);
    public override int GetHashCode() => Bits;
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Equals(right);
    public static bool operator !=(BFloat16 left, BFloat16 right) => !left.Equals(right);
}
