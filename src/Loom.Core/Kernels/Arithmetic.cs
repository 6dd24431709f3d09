// Elementwise sums used by the models (residual connections, position embeddings).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>destination = x + y, in parallel for large spans.</summary>
public static class Arithmetic
{
    /// <summary>destination[i] = x[i] + y[i]; destination may be x or y.</summary>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, WorkerPool? pool = null) =>
        Elementwise.Binary<AddOp>(x, y, destination, pool);

    /// <summary>destination[i] = x[i] · y[i]; destination may be x or y.</summary>
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, WorkerPool? pool = null) =>
        Elementwise.Binary<MultiplyOp>(x, y, destination, pool);

    private readonly struct MultiplyOp : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Invoke(float x, float y) => x * y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => x * y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x * y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x * y;
    }

    private readonly struct AddOp : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Invoke(float x, float y) => x + y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => x + y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
    }
}
