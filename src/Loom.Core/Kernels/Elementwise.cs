// The elementwise driver, after TensorPrimitives: an operator struct supplies the math at four
// widths (Vector512, Vector256, Vector128, scalar) and one generic loop per shape drives it. The tail is
// covered by an overlapping last vector computed *before* the main loop stores anything, so the
// loop is correct in place (destination == source). Partially overlapping spans are rejected.
// Large inputs are split across the worker pool in 64-byte-aligned contiguous shares.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>y = f(x), given at every vector width.</summary>
public interface IUnaryOperator
{
    static abstract float Invoke(float x);
    static abstract Vector128<float> Invoke(Vector128<float> x);
    static abstract Vector256<float> Invoke(Vector256<float> x);
    static abstract Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>z = f(x, y), given at every vector width (backward kernels: dx = f(x, dy)).</summary>
public interface IBinaryOperator
{
    static abstract float Invoke(float x, float y);
    static abstract Vector128<float> Invoke(Vector128<float> x, Vector128<float> y);
    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>Drives elementwise operators over spans, in parallel when large.</summary>
public static unsafe class Elementwise
{
    // Below this many elements per thread a wake-up costs more than the work (≈16K floats ≈ 2 µs).
    internal const int MinElementsPerThread = 1 << 14;

    /// <summary>destination[i] = TOp(x[i]).</summary>
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> destination, WorkerPool? pool = null) where TOp : IUnaryOperator
    {
        CheckLengths(x.Length, destination.Length, "x", "destination");
        CheckOverlap(x, destination);
        fixed (float* px = x, pd = destination)
        {
            pool ??= WorkerPool.Shared;
            var job = new UnaryJob<TOp> { X = px, D = pd, N = x.Length };
            pool.Run(job, pool.ThreadsFor(x.Length, MinElementsPerThread));
        }
    }

    /// <summary>destination[i] = TOp(x[i], y[i]).</summary>
    public static void Binary<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, WorkerPool? pool = null) where TOp : IBinaryOperator
    {
        CheckLengths(x.Length, y.Length, "x", "y");
        CheckLengths(x.Length, destination.Length, "x", "destination");
        CheckOverlap(x, destination);
        CheckOverlap(y, destination);
        fixed (float* px = x, py = y, pd = destination)
        {
            pool ??= WorkerPool.Shared;
            var job = new BinaryJob<TOp> { X = px, Y = py, D = pd, N = x.Length };
            pool.Run(job, pool.ThreadsFor(x.Length, MinElementsPerThread));
        }
    }

    internal static void CheckLengths(int a, int b, string nameA, string nameB)
    {
        if (a != b) throw new ArgumentException($"{nameA} has {a} elements but {nameB} has {b}; they must be equal.");
    }

    /// <summary>Same span (in place) is fine; a shifted overlap would read values already overwritten.</summary>
    internal static void CheckOverlap(ReadOnlySpan<float> input, ReadOnlySpan<float> output)
    {
        if (input.Overlaps(output, out int offset) && offset != 0)
            throw new ArgumentException($"Input and destination overlap at an offset of {offset} elements; use the same span (in place) or separate memory.");
    }

    private struct UnaryJob<TOp> : IParallelJob where TOp : IUnaryOperator
    {
        public float* X, D;
        public int N;
        public readonly void Execute(int t, int n)
        {
            var (s, e) = WorkerPool.PartitionAligned(N, 16, t, n);
            UnarySerial<TOp>(X + s, D + s, e - s);
        }
    }

    private struct BinaryJob<TOp> : IParallelJob where TOp : IBinaryOperator
    {
        public float* X, Y, D;
        public int N;
        public readonly void Execute(int t, int n)
        {
            var (s, e) = WorkerPool.PartitionAligned(N, 16, t, n);
            BinarySerial<TOp>(X + s, Y + s, D + s, e - s);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void UnarySerial<TOp>(float* x, float* d, int n) where TOp : IUnaryOperator
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            int last = n - Vector512<float>.Count;
            Vector512<float> tail = TOp.Invoke(Vector512.Load(x + last));
            for (int i = 0; i < last; i += Vector512<float>.Count)
                TOp.Invoke(Vector512.Load(x + i)).Store(d + i);
            tail.Store(d + last);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            int last = n - Vector256<float>.Count;
            Vector256<float> tail = TOp.Invoke(Vector256.Load(x + last));
            for (int i = 0; i < last; i += Vector256<float>.Count)
                TOp.Invoke(Vector256.Load(x + i)).Store(d + i);
            tail.Store(d + last);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            int last = n - Vector128<float>.Count;
            Vector128<float> tail = TOp.Invoke(Vector128.Load(x + last));
            for (int i = 0; i < last; i += Vector128<float>.Count)
                TOp.Invoke(Vector128.Load(x + i)).Store(d + i);
            tail.Store(d + last);
        }
        else
        {
            for (int i = 0; i < n; i++) d[i] = TOp.Invoke(x[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BinarySerial<TOp>(float* x, float* y, float* d, int n) where TOp : IBinaryOperator
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            int last = n - Vector512<float>.Count;
            Vector512<float> tail = TOp.Invoke(Vector512.Load(x + last), Vector512.Load(y + last));
            for (int i = 0; i < last; i += Vector512<float>.Count)
                TOp.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)).Store(d + i);
            tail.Store(d + last);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            int last = n - Vector256<float>.Count;
            Vector256<float> tail = TOp.Invoke(Vector256.Load(x + last), Vector256.Load(y + last));
            for (int i = 0; i < last; i += Vector256<float>.Count)
                TOp.Invoke(Vector256.Load(x + i), Vector256.Load(y + i)).Store(d + i);
            tail.Store(d + last);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            int last = n - Vector128<float>.Count;
            Vector128<float> tail = TOp.Invoke(Vector128.Load(x + last), Vector128.Load(y + last));
            for (int i = 0; i < last; i += Vector128<float>.Count)
                TOp.Invoke(Vector128.Load(x + i), Vector128.Load(y + i)).Store(d + i);
            tail.Store(d + last);
        }
        else
        {
            for (int i = 0; i < n; i++) d[i] = TOp.Invoke(x[i], y[i]);
        }
    }
}
