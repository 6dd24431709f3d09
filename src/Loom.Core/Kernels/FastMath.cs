// exp(x) for the kernels whose cost is exp (GELU, SiLU, softmax, cross-entropy), one algorithm at
// every width: scalar, Vector128 (SSE), Vector256 (AVX2) and Vector512 (AVX-512). The same
// operations in the same order with fused multiply-adds everywhere, so every path returns the
// same bits for the same input: a machine without AVX2 or AVX-512 computes the same numbers as
// one with (tested bit for bit in FastMathTests). Where the CPU has no FMA (SSE-only, or
// DOTNET_EnableHWIntrinsic=0), FusedMultiplyAdd is emulated by the runtime with a single
// rounding (slower, same bits). The BCL's Vector*.Exp is more accurate but several times slower.
// Method (Cephes expf, S. Moshier): n = round(x·log₂e) (ties to even); r = x − n·ln2 (ln2 split
// in a hi and lo part so r is exact to ~1 ulp); exp(r) ≈ 1 + r + r²·P(r) with a degree-5
// minimax P on |r| ≤ ln2/2; then scale by 2ⁿ by building the float (n + 127) << 23. Error
// ≤ 2 ulp on [-87.33, 88.37] (tested against Math.Exp).
// Edges: x < −87.33 (where exp is subnormal) returns 0; x in (88.37, 88.72] returns
// exp(88.37) (the 2ⁿ trick needs n ≤ 127); x > 88.72 returns +∞; NaN returns NaN. The kernels
// only feed it x − max ≤ 0 (softmax) or use it inside 1/(1 + e^t), where these edges are exact
// to float precision.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels;

internal static class FastMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float ClampLow = -87.33654f;   // ln(FLT_MIN): below, exp is subnormal
    private const float ClampHigh = 88.37626f;   // keeps n = round(x·log₂e) ≤ 127
    private const float Overflow = 88.72284f;    // ln(FLT_MAX)
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f,
        P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    /// <summary>exp of one float: the reference every vector width reproduces bit for bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x < ClampLow) return 0f;
        if (x > Overflow) return float.PositiveInfinity;
        float xc = MathF.Min(x, ClampHigh);
        float n = MathF.Round(xc * Log2E, MidpointRounding.ToEven);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, xc);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float p = P0;
        p = MathF.FusedMultiplyAdd(p, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        float y = MathF.FusedMultiplyAdd(p, r * r, r + 1f);
        return y * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }

    /// <summary>exp of each of 4 lanes; same bits as <see cref="Exp(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        var xc = Vector128.Min(Vector128.Max(x, Vector128.Create(ClampLow)), Vector128.Create(ClampHigh));
        var n = Vector128.Round(xc * Vector128.Create(Log2E));
        var r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Hi), xc);
        r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Lo), r);
        var p = Vector128.Create(P0);
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P1));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P2));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P3));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P4));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P5));
        var y = Vector128.FusedMultiplyAdd(p, r * r, r + Vector128<float>.One);
        y *= Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
        y = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(ClampLow)), Vector128<float>.Zero, y);
        y = Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128.Create(Overflow)), Vector128.Create(float.PositiveInfinity), y);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x); // NaN in, NaN out
    }

    /// <summary>exp of each of 8 lanes; same bits as <see cref="Exp(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var xc = Vector256.Min(Vector256.Max(x, Vector256.Create(ClampLow)), Vector256.Create(ClampHigh));
        var n = Vector256.Round(xc * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), xc);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.Create(P0);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        var y = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        y *= Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ClampLow)), Vector256<float>.Zero, y);
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Overflow)), Vector256.Create(float.PositiveInfinity), y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x); // NaN in, NaN out
    }

    /// <summary>exp of each of 16 lanes; same bits as <see cref="Exp(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(ClampLow)), Vector512.Create(ClampHigh));
        var n = Vector512.Round(xc * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.Create(P0);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        // y·2ⁿ: vscalefps does it in one instruction where building the float (n + 127) << 23 and
        // multiplying takes four (convert, add, shift, multiply). Both are one exact power of two
        // and one rounding (n is an integer in [−126, 127] after the clamps, so 2ⁿ is a normal
        // float and y·2ⁿ rounds once, subnormal results included): the same bits (tested).
        if (Avx512F.IsSupported) y = Avx512F.Scale(y, n);
        else y *= Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ClampLow)), Vector512<float>.Zero, y);
        y = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Overflow)), Vector512.Create(float.PositiveInfinity), y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x); // NaN in, NaN out
    }

    /// <summary>
    /// exp of 16 lanes that are ≤ 0, −∞ or NaN (softmax's and cross-entropy's x − max): the bits of
    /// <see cref="Exp(float)"/> for those inputs, with two steps fewer. For x ≤ 0 the upper clamp
    /// (min with 88.37626) and the overflow select (x > 88.72284 → +∞) never change a lane, so they
    /// are left out; a positive lane is outside the contract.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        var xc = Vector512.Max(x, Vector512.Create(ClampLow));
        var n = Vector512.Round(xc * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.Create(P0);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        if (Avx512F.IsSupported) y = Avx512F.Scale(y, n);
        else y *= Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ClampLow)), Vector512<float>.Zero, y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x); // NaN in, NaN out
    }

    /// <summary>exp on <see cref="System.Numerics.Vector{T}"/> at whatever width it has; same bits as the scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static System.Numerics.Vector<float> Exp(System.Numerics.Vector<float> x)
    {
        if (System.Numerics.Vector<float>.Count == Vector512<float>.Count) return Exp(x.AsVector512()).AsVector();
        if (System.Numerics.Vector<float>.Count == Vector256<float>.Count) return Exp(x.AsVector256()).AsVector();
        if (System.Numerics.Vector<float>.Count == Vector128<float>.Count) return Exp(x.AsVector128()).AsVector();
        Span<float> lanes = stackalloc float[System.Numerics.Vector<float>.Count];
        x.CopyTo(lanes);
        for (int i = 0; i < lanes.Length; i++) lanes[i] = Exp(lanes[i]);
        return new System.Numerics.Vector<float>(lanes);
    }
}
