// The exact GELU (Hendrycks & Gimpel 2016), BERT's "gelu": gelu(x) = x·Φ(x) = ½x(1 + erf(x/√2)),
// gelu'(x) = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π). .NET has no erf, so erf uses Abramowitz &
// Stegun 7.1.26: erf(z) ≈ 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵)e^{−z²}, t = 1/(1 + p·z), z ≥ 0,
// odd symmetry for z < 0; absolute error ≤ 1.5e-7 in exact arithmetic; evaluated in float, 4.1e-7 at worst
// (measured against a double-precision series), so GELU's absolute error is ≤ 2.1e-7·|x|.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Exact (erf) GELU, forward and backward.</summary>
public static class GeluExact
{
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.3989422804014327f;

    /// <summary>y = x·Φ(x). In place is allowed.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, WorkerPool? pool = null) => Elementwise.Unary<Op>(x, y, pool);

    /// <summary>dx = dy·(Φ(x) + x·φ(x)). dx may be dy.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, WorkerPool? pool = null) => Elementwise.Binary<GradOp>(x, dy, dx, pool);

    /// <summary>erf, scalar.</summary>
    public static float Erf(float z)
    {
        float a = MathF.Abs(z), t = 1f / (1f + P * a);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float r = 1f - poly * MathF.Exp(-a * a);
        return z < 0 ? -r : r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Erf(Vector256<float> z)
    {
        var a = Vector256.Abs(z);
        var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(P) * a);
        var poly = ((((Vector256.Create(A5) * t + Vector256.Create(A4)) * t + Vector256.Create(A3)) * t + Vector256.Create(A2)) * t + Vector256.Create(A1)) * t;
        var r = Vector256<float>.One - poly * FastMath.Exp(-(a * a));
        return Vector256.ConditionalSelect(Vector256.LessThan(z, Vector256<float>.Zero), -r, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Erf(Vector128<float> z)
    {
        var a = Vector128.Abs(z);
        var t = Vector128<float>.One / (Vector128<float>.One + Vector128.Create(P) * a);
        var poly = ((((Vector128.Create(A5) * t + Vector128.Create(A4)) * t + Vector128.Create(A3)) * t + Vector128.Create(A2)) * t + Vector128.Create(A1)) * t;
        var r = Vector128<float>.One - poly * Vector128.Exp(-(a * a));
        return Vector128.ConditionalSelect(Vector128.LessThan(z, Vector128<float>.Zero), -r, r);
    }

    private readonly struct Op : IUnaryOperator
    {
        public static float Invoke(float x) => 0.5f * x * (1f + Erf(x * InvSqrt2));
        public static Vector128<float> Invoke(Vector128<float> x) => Vector128.Create(0.5f) * x * (Vector128<float>.One + Erf(x * Vector128.Create(InvSqrt2)));
        public static Vector256<float> Invoke(Vector256<float> x) => Vector256.Create(0.5f) * x * (Vector256<float>.One + Erf(x * Vector256.Create(InvSqrt2)));
    }

    private readonly struct GradOp : IBinaryOperator
    {
        public static float Invoke(float x, float dy) => dy * (0.5f * (1f + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x));
        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
            dy * (Vector128.Create(0.5f) * (Vector128<float>.One + Erf(x * Vector128.Create(InvSqrt2))) + x * Vector128.Create(InvSqrt2Pi) * Vector128.Exp(Vector128.Create(-0.5f) * x * x));
        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
            dy * (Vector256.Create(0.5f) * (Vector256<float>.One + Erf(x * Vector256.Create(InvSqrt2))) + x * Vector256.Create(InvSqrt2Pi) * FastMath.Exp(Vector256.Create(-0.5f) * x * x));
    }
}
