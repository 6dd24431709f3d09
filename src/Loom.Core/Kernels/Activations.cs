// Activation functions and their derivatives as operator structs.
// GELU, tanh approximation (Hendrycks & Gimpel 2016, eq. in §2; GPT-2's "gelu_new"):
//   gelu(x) = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³).
// We use the identity ½(1 + tanh(u)) = σ(2u), so gelu(x) = x·σ(2u), which avoids the
// cancellation of 1 − 2/(1+e^{2u}) near zero and needs one exp:
//   gelu'(x) = σ(2u) + x·σ(2u)(1 − σ(2u))·2u'(x),  u'(x) = √(2/π)(1 + 3·0.044715x²).
// For |x| ≥ 20 gelu'(x) is exactly 1 or 0 in float (1 − σ(2u) < 1e-250), so the backward clamps x
// to ±20 first: without it x² overflows and 0·∞ turns a huge input into NaN.
// Every width (scalar, Vector128, Vector256, Vector512) runs the same operations in the same order
// with FastMath.Exp, so all SIMD paths return the same bits (ActivationTests checks this).
// SiLU (Elfwing et al. 2018; Llama's SwiGLU gate): silu(x) = x·σ(x), silu'(x) = σ(x)(1 + x(1 − σ(x))).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>GELU (tanh form) and SiLU, forward and backward.</summary>
public static class Activations
{
    /// <summary>y = gelu(x) (tanh approximation). In place is allowed.</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y, WorkerPool? pool = null) => Elementwise.Unary<GeluOp>(x, y, pool);

    /// <summary>dx = dy · gelu'(x). dx may be dy (in place).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, WorkerPool? pool = null) => Elementwise.Binary<GeluGradOp>(x, dy, dx, pool);

    /// <summary>y = silu(x) = x·σ(x). In place is allowed.</summary>
    public static void SiluForward(ReadOnlySpan<float> x, Span<float> y, WorkerPool? pool = null) => Elementwise.Unary<SiluOp>(x, y, pool);

    /// <summary>dx = dy · silu'(x). dx may be dy (in place).</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, WorkerPool? pool = null) => Elementwise.Binary<SiluGradOp>(x, dy, dx, pool);

    private const float SqrtTwoOverPi = 0.7978845608028654f;
    private const float GeluCoeff = 0.044715f;
    private const float GradClamp = 20f;

    /// <summary>gelu(x), tanh form.</summary>
    public readonly struct GeluOp : IUnaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Invoke(float x)
        {
            float u2 = 2f * SqrtTwoOverPi * (x + GeluCoeff * x * x * x);
            return x / (1f + FastMath.Exp(-u2));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Invoke(Vector128<float> x)
        {
            var u2 = Vector128.Create(2f * SqrtTwoOverPi) * (x + Vector128.Create(GeluCoeff) * x * x * x);
            return x / (Vector128<float>.One + FastMath.Exp(-u2));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            var u2 = Vector256.Create(2f * SqrtTwoOverPi) * (x + Vector256.Create(GeluCoeff) * x * x * x);
            return x / (Vector256<float>.One + FastMath.Exp(-u2));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            var u2 = Vector512.Create(2f * SqrtTwoOverPi) * (x + Vector512.Create(GeluCoeff) * x * x * x);
            return x / (Vector512<float>.One + FastMath.Exp(-u2));
        }
    }

    /// <summary>(x, dy) → dy · gelu'(x).</summary>
    public readonly struct GeluGradOp : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Invoke(float x, float dy)
        {
            x = Math.Clamp(x, -GradClamp, GradClamp);
            float x2 = x * x;
            float s = 1f / (1f + FastMath.Exp(-2f * SqrtTwoOverPi * (x + GeluCoeff * x2 * x)));
            float du2 = 2f * SqrtTwoOverPi * (1f + 3f * GeluCoeff * x2);
            return dy * (s + x * s * (1f - s) * du2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy)
        {
            x = Vector128.Clamp(x, Vector128.Create(-GradClamp), Vector128.Create(GradClamp));
            var x2 = x * x;
            var k = Vector128.Create(2f * SqrtTwoOverPi);
            var one = Vector128<float>.One;
            var s = one / (one + FastMath.Exp(-(k * (x + Vector128.Create(GeluCoeff) * x2 * x))));
            var du2 = k * (one + Vector128.Create(3f * GeluCoeff) * x2);
            return dy * (s + x * s * (one - s) * du2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            x = Vector256.Clamp(x, Vector256.Create(-GradClamp), Vector256.Create(GradClamp));
            var x2 = x * x;
            var k = Vector256.Create(2f * SqrtTwoOverPi);
            var one = Vector256<float>.One;
            var s = one / (one + FastMath.Exp(-(k * (x + Vector256.Create(GeluCoeff) * x2 * x))));
            var du2 = k * (one + Vector256.Create(3f * GeluCoeff) * x2);
            return dy * (s + x * s * (one - s) * du2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            x = Vector512.Clamp(x, Vector512.Create(-GradClamp), Vector512.Create(GradClamp));
            var x2 = x * x;
            var k = Vector512.Create(2f * SqrtTwoOverPi);
            var one = Vector512<float>.One;
            var s = one / (one + FastMath.Exp(-(k * (x + Vector512.Create(GeluCoeff) * x2 * x))));
            var du2 = k * (one + Vector512.Create(3f * GeluCoeff) * x2);
            return dy * (s + x * s * (one - s) * du2);
        }
    }

    /// <summary>silu(x) = x·σ(x).</summary>
    public readonly struct SiluOp : IUnaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Invoke(float x) => x / (1f + FastMath.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Invoke(Vector128<float> x) => x / (Vector128<float>.One + FastMath.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + FastMath.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x) => x / (Vector512<float>.One + FastMath.Exp(-x));
    }

    /// <summary>(x, dy) → dy · silu'(x).</summary>
    public readonly struct SiluGradOp : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Invoke(float x, float dy)
        {
            float s = 1f / (1f + FastMath.Exp(-x));
            return dy * (s * (1f + x * (1f - s)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy)
        {
            var one = Vector128<float>.One;
            var s = one / (one + FastMath.Exp(-x));
            return dy * (s * (one + x * (one - s)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var one = Vector256<float>.One;
            var s = one / (one + FastMath.Exp(-x));
            return dy * (s * (one + x * (one - s)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var one = Vector512<float>.One;
            var s = one / (one + FastMath.Exp(-x));
            return dy * (s * (one + x * (one - s)));
        }
    }
}
