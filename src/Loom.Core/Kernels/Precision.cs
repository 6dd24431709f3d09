// Bulk conversion between f32 and the 16-bit float formats used for mixed precision and for
// storing weights. bf16: round to nearest even on the dropped 16 bits, NaN kept quiet (the same
// rule as PyTorch's and llm.c's). f16: IEEE binary16 via TensorPrimitives' vectorised Half
// conversion (round to nearest even, overflow to ±inf, subnormals kept).
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Loom.Core.Tensors;

namespace Loom.Core.Kernels;

/// <summary>f32 ↔ bf16 / f16 conversion.</summary>
public static unsafe class Precision
{
    /// <summary>destination[i] = (bf16)source[i], rounding to nearest even.</summary>
    public static void ToBFloat16(ReadOnlySpan<float> source, Span<BFloat16> destination)
    {
        Elementwise.CheckLengths(source.Length, destination.Length, "source", "destination");
        ReadOnlySpan<uint> src = MemoryMarshal.Cast<float, uint>(source);
        Span<ushort> dst = MemoryMarshal.Cast<BFloat16, ushort>(destination);
        int w = Vector<uint>.Count, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var absMask = new Vector<uint>(0x7FFF_FFFFu);
            var inf = new Vector<uint>(0x7F80_0000u);
            var bias = new Vector<uint>(0x7FFFu);
            var one = new Vector<uint>(1u);
            var quiet = new Vector<uint>(0x0040u);
            for (; i <= src.Length - 2 * w; i += 2 * w)
            {
                var lo = Round(new Vector<uint>(src.Slice(i, w)));
                var hi = Round(new Vector<uint>(src.Slice(i + w, w)));
                Vector.Narrow(lo, hi).CopyTo(dst.Slice(i));
            }

            Vector<uint> Round(Vector<uint> u)
            {
                var isNan = Vector.GreaterThan(u & absMask, inf);
                var rounded = (u + bias + ((u >> 16) & one)) >> 16;
                return Vector.ConditionalSelect(isNan, (u >> 16) | quiet, rounded);
            }
        }
        for (; i < src.Length; i++) destination[i] = (BFloat16)source[i];
    }

    /// <summary>destination[i] = (float)source[i] (exact).</summary>
    public static void ToSingle(ReadOnlySpan<BFloat16> source, Span<float> destination)
    {
        Elementwise.CheckLengths(source.Length, destination.Length, "source", "destination");
        ReadOnlySpan<ushort> src = MemoryMarshal.Cast<BFloat16, ushort>(source);
        Span<uint> dst = MemoryMarshal.Cast<float, uint>(destination);
        int w = Vector<ushort>.Count, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= src.Length - w; i += w)
            {
                Vector.Widen(new Vector<ushort>(src.Slice(i, w)), out Vector<uint> lo, out Vector<uint> hi);
                (lo << 16).CopyTo(dst.Slice(i));
                (hi << 16).CopyTo(dst.Slice(i + w / 2));
            }
        }
        for (; i < src.Length; i++) dst[i] = (uint)src[i] << 16;
    }

    /// <summary>destination[i] = (Half)source[i].</summary>
    public static void ToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        Elementwise.CheckLengths(source.Length, destination.Length, "source", "destination");
        TensorPrimitives.ConvertToHalf(source, destination);
    }

    /// <summary>destination[i] = (float)source[i] (exact).</summary>
    public static void ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        Elementwise.CheckLengths(source.Length, destination.Length, "source", "destination");
        TensorPrimitives.ConvertToSingle(source, destination);
    }
}
