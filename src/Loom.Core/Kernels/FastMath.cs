// exp(x) for 8 floats in ~15 AVX2 instructions, for the kernels whose cost is exp (GELU, SiLU,
// softmax, cross-entropy). The BCL's Vector256.Exp is accurate but several times slower.
// Method (Cephes expf, S. Moshier): n = round(x·log₂e); r = x − n·ln2 (ln2 split in a hi and lo
// part so r is exact to ~1 ulp); exp(r) ≈ 1 + r + r²·P(r) with a degree-5 minimax P on
// |r| ≤ ln2/2; then scale by 2ⁿ by building the float (n + 127) << 23. Error ≤ 2 ulp on
// [-87.33, 88.37] (tested against Math.Exp).
// Edges: x < −87.33 (where exp is subnormal) returns 0; x in (88.37, 88.72] returns
// exp(88.37) (the 2ⁿ trick needs n ≤ 127); x > 88.72 returns +∞; NaN returns NaN. The kernels
// only feed it x − max ≤ 0 (softmax) or use it inside 1/(1 + e^t), where these edges are exact
// to float precision.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Core.Kernels;

internal static class FastMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float ClampLow = -87.33654f;   // ln(FLT_MIN): below, exp is subnormal
    private const float ClampHigh = 88.37626f;   // keeps n = round(x·log₂e) ≤ 127
    private const float Overflow = 88.72284f;    // ln(FLT_MAX)

    /// <summary>exp of each lane (see the file comment for accuracy and edges).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var xc = Vector256.Min(Vector256.Max(x, Vector256.Create(ClampLow)), Vector256.Create(ClampHigh));
        var n = Vector256.Round(xc * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), xc);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.Create(1.9875691500E-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        var y = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        y *= scale;
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ClampLow)), Vector256<float>.Zero, y);
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Overflow)), Vector256.Create(float.PositiveInfinity), y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x); // NaN in, NaN out
    }

    /// <summary>exp on <see cref="System.Numerics.Vector{T}"/>: the fast path when it is 256-bit, else the BCL's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static System.Numerics.Vector<float> Exp(System.Numerics.Vector<float> x)
    {
        if (Vector256.IsHardwareAccelerated && System.Numerics.Vector<float>.Count == Vector256<float>.Count)
            return Exp(x.AsVector256()).AsVector();
        return System.Numerics.Vector.Exp(x);
    }
}
