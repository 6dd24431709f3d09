// The exact GELU (Hendrycks & Gimpel 2016), BERT's "gelu": gelu(x) = x·Φ(x) = ½x(1 + erf(x/√2)),
// gelu'(x) = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π). .NET has no erf; it is the rational minimax
// approximation used for float erf in Eigen and XLA: x clamped to [−4, 4] (where erf is ±1 in float),
// erf(x) ≈ x·P(x²)/Q(x²) with P of degree 6 and Q of degree 4 in x², clamped to [−1, 1]. Max error
// 6.5e-8 in exact arithmetic (checked against math.erf); evaluated in float, 3.2e-7 at worst against a
// double-precision series (Abramowitz & Stegun 7.1.26, used first, measured 4.1e-7).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Exact (erf) GELU, forward and backward.</summary>
public static class GeluExact
{
    // Numerator (odd, in x²) and denominator (even) coefficients, highest power first.
    private const float A13 = -2.72614225801306e-10f, A11 = 2.77068142495902e-08f, A9 = -2.10102402082508e-06f, A7 = -5.69250639462346e-05f,
        A5 = -7.34990630326855e-04f, A3 = -2.95459980854025e-03f, A1 = -1.60960333262415e-02f;
    private const float B8 = -1.45660718464996e-05f, B6 = -2.13374055278905e-04f, B4 = -1.68282697438203e-03f, B2 = -7.37332916720468e-03f, B0 = -1.42647390514189e-02f;
    private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.3989422804014327f;

    /// <summary>y = x·Φ(x). In place is allowed.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, WorkerPool? pool = null) => Elementwise.Unary<Op>(x, y, pool);

    /// <summary>dx = dy·(Φ(x) + x·φ(x)). dx may be dy.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, WorkerPool? pool = null) => Elementwise.Binary<GradOp>(x, dy, dx, pool);

    /// <summary>erf, scalar.</summary>
    public static float Erf(float z)
    {
        float x = Math.Clamp(z, -4f, 4f), x2 = x * x;
        float p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x;
        float q = (((B8 * x2 + B6) * x2 + B4) * x2 + B2) * x2 + B0;
        // Rounding can put p/q a hair outside [−1, 1] near the clamp, which would make 1 + erf
        // negative and GELU of a negative x positive.
        return Math.Clamp(p / q, -1f, 1f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Erf(Vector256<float> z)
    {
        var x = Vector256.Min(Vector256.Max(z, Vector256.Create(-4f)), Vector256.Create(4f));
        var x2 = x * x;
        var p = ((((((Vector256.Create(A13) * x2 + Vector256.Create(A11)) * x2 + Vector256.Create(A9)) * x2 + Vector256.Create(A7)) * x2
            + Vector256.Create(A5)) * x2 + Vector256.Create(A3)) * x2 + Vector256.Create(A1)) * x;
        var q = (((Vector256.Create(B8) * x2 + Vector256.Create(B6)) * x2 + Vector256.Create(B4)) * x2 + Vector256.Create(B2)) * x2 + Vector256.Create(B0);
        return Vector256.Min(Vector256.Max(p / q, Vector256.Create(-1f)), Vector256<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Erf(Vector128<float> z)
    {
        var x = Vector128.Min(Vector128.Max(z, Vector128.Create(-4f)), Vector128.Create(4f));
        var x2 = x * x;
        var p = ((((((Vector128.Create(A13) * x2 + Vector128.Create(A11)) * x2 + Vector128.Create(A9)) * x2 + Vector128.Create(A7)) * x2
            + Vector128.Create(A5)) * x2 + Vector128.Create(A3)) * x2 + Vector128.Create(A1)) * x;
        var q = (((Vector128.Create(B8) * x2 + Vector128.Create(B6)) * x2 + Vector128.Create(B4)) * x2 + Vector128.Create(B2)) * x2 + Vector128.Create(B0);
        return Vector128.Min(Vector128.Max(p / q, Vector128.Create(-1f)), Vector128<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Erf(Vector512<float> z)
    {
        var x = Vector512.Min(Vector512.Max(z, Vector512.Create(-4f)), Vector512.Create(4f));
        var x2 = x * x;
        var p = ((((((Vector512.Create(A13) * x2 + Vector512.Create(A11)) * x2 + Vector512.Create(A9)) * x2 + Vector512.Create(A7)) * x2
            + Vector512.Create(A5)) * x2 + Vector512.Create(A3)) * x2 + Vector512.Create(A1)) * x;
        var q = (((Vector512.Create(B8) * x2 + Vector512.Create(B6)) * x2 + Vector512.Create(B4)) * x2 + Vector512.Create(B2)) * x2 + Vector512.Create(B0);
        return Vector512.Min(Vector512.Max(p / q, Vector512.Create(-1f)), Vector512<float>.One);
    }

    internal readonly struct Op : IUnaryOperator
    {
        public static float Invoke(float x) => 0.5f * x * (1f + Erf(x * InvSqrt2));
        public static Vector128<float> Invoke(Vector128<float> x) => Vector128.Create(0.5f) * x * (Vector128<float>.One + Erf(x * Vector128.Create(InvSqrt2)));
        public static Vector256<float> Invoke(Vector256<float> x) => Vector256.Create(0.5f) * x * (Vector256<float>.One + Erf(x * Vector256.Create(InvSqrt2)));
        public static Vector512<float> Invoke(Vector512<float> x) => Vector512.Create(0.5f) * x * (Vector512<float>.One + Erf(x * Vector512.Create(InvSqrt2)));
    }

    internal readonly struct GradOp : IBinaryOperator
    {
        public static float Invoke(float x, float dy) => dy * (0.5f * (1f + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * FastMath.Exp(-0.5f * x * x));
        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
            dy * (Vector128.Create(0.5f) * (Vector128<float>.One + Erf(x * Vector128.Create(InvSqrt2))) + x * Vector128.Create(InvSqrt2Pi) * FastMath.Exp(Vector128.Create(-0.5f) * x * x));
        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
            dy * (Vector256.Create(0.5f) * (Vector256<float>.One + Erf(x * Vector256.Create(InvSqrt2))) + x * Vector256.Create(InvSqrt2Pi) * FastMath.Exp(Vector256.Create(-0.5f) * x * x));
        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
            dy * (Vector512.Create(0.5f) * (Vector512<float>.One + Erf(x * Vector512.Create(InvSqrt2))) + x * Vector512.Create(InvSqrt2Pi) * FastMath.Exp(Vector512.Create(-0.5f) * x * x));
    }
}
