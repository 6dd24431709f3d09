// Elementwise sums used by the models (residual connections, position embeddings), and the
// whole-block passes of a training step over every gradient (zeroing, the global norm of clipping,
// scaling), each split across the worker pool: on GPT-2 124M a pass is 0.5 GB, far too much for
// one thread to stream while the other waits.
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>destination = x + y, in parallel for large spans.</summary>
public static unsafe class Arithmetic
{
    // Sum of squares is summed in chunks of this many floats, each chunk in VectorOps' fixed 16-lane
    // order, the chunk sums then in double in chunk order: the result does not depend on the thread count.
    internal const int SquareSumChunk = 1 << 16;

    /// <summary>destination[i] = 0, split across the pool.</summary>
    public static void Clear(Span<float> destination, WorkerPool? pool = null)
    {
        fixed (float* pd = destination)
            Ranges.Run(pool, destination.Length, 1, new ClearKernel { D = pd }, granule: 16);
    }

    /// <summary>destination[i] = x[i] · a; destination may be x.</summary>
    public static void Scale(ReadOnlySpan<float> x, float a, Span<float> destination, WorkerPool? pool = null)
    {
        Elementwise.CheckLengths(x.Length, destination.Length, "x", "destination");
        Elementwise.CheckOverlap(x, destination);
        fixed (float* px = x, pd = destination)
            Ranges.Run(pool, x.Length, 2, new ScaleKernel { X = px, D = pd, A = a }, granule: 16);
    }

    /// <summary>Σ x[i]², in double across fixed chunks (the same bits at any thread count).</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x, WorkerPool? pool = null)
    {
        int chunks = (x.Length + SquareSumChunk - 1) / SquareSumChunk;
        if (chunks == 0) return 0;
        double[] partial = ArrayPool<double>.Shared.Rent(chunks);
        try
        {
            fixed (float* px = x)
            fixed (double* pp = partial)
                Ranges.Run(pool, chunks, SquareSumChunk, new SquareSumKernel { X = px, N = x.Length, Partial = pp });
            double sum = 0;
            for (int c = 0; c < chunks; c++) sum += partial[c];
            return sum;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
    }

    private struct ClearKernel : IRangeKernel
    {
        public float* D;
        public readonly void Run(int start, int end) => new Span<float>(D + start, end - start).Clear();
    }

    private struct ScaleKernel : IRangeKernel
    {
        public float* X, D;
        public float A;
        public readonly void Run(int start, int end) => VectorOps.Scale(X + start, D + start, end - start, A);
    }

    private struct SquareSumKernel : IRangeKernel
    {
        public float* X;
        public double* Partial;
        public int N;
        public readonly void Run(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                int s = c * SquareSumChunk, n = Math.Min(SquareSumChunk, N - s);
                Partial[c] = VectorOps.Dot(X + s, X + s, n);
            }
        }
    }

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
