// What `loom doctor` reports: the runtime, the cores, which SIMD paths the kernels will take
// (GEMM micro-kernel; Vector512 for the elementwise kernels), and a measured GEMM rate. Kept in Core so it is testable without the console.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Core.Kernels;
using Loom.Core.Tensors;
using Loom.Core.Threading;

namespace Loom.Core.Diagnostics;

/// <summary>Facts about this machine as Loom's kernels see it.</summary>
public sealed record MachineReport(
    string Runtime,
    string OperatingSystem,
    string Architecture,
    int LogicalCores,
    int PoolThreads,
    bool Vector512Accelerated,
    bool Vector256Accelerated,
    bool Vector128Accelerated,
    bool Avx2,
    bool Fma,
    bool Avx512F,
    int VectorFloatWidth,
    GemmPath GemmPath,
    string GemmKernel)
{
    /// <summary>Reads the current process's view of the machine.</summary>
    public static MachineReport Current(WorkerPool? pool = null) => new(
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription,
        RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        (pool ?? WorkerPool.Shared).ThreadCount,
        Vector512.IsHardwareAccelerated,
        Vector256.IsHardwareAccelerated,
        Vector128.IsHardwareAccelerated,
        System.Runtime.Intrinsics.X86.Avx2.IsSupported,
        System.Runtime.Intrinsics.X86.Fma.IsSupported,
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported,
        System.Numerics.Vector<float>.Count,
        Gemm.SelectedPath,
        Gemm.Describe(Gemm.SelectedPath));
}

/// <summary>A timed GEMM: the figure `loom doctor` prints.</summary>
public sealed record GemmMeasurement(int Size, int Threads, int Calls, double Seconds, double GflopsPerSecond, double MaxAbsError, GemmPath Path);

/// <summary>Measures SGEMM throughput for about a given time.</summary>
public static class GemmProbe
{
    /// <summary>
    /// Runs C = A·Bᵀ on <paramref name="size"/>² matrices for about <paramref name="seconds"/>
    /// and returns the rate. First checks one row of C against a double-precision dot product.
    /// </summary>
    public static unsafe GemmMeasurement Measure(double seconds = 1.0, int size = 1024, WorkerPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        pool ??= WorkerPool.Shared;
        long n2 = (long)size * size;
        using var a = new NativeBuffer(n2 * 4, zero: false);
        using var b = new NativeBuffer(n2 * 4, zero: false);
        using var c = new NativeBuffer(n2 * 4, zero: false);
        var sa = a.AsSpan<float>();
        var sb = b.AsSpan<float>();
        var rng = new Random(1);
        for (int i = 0; i < sa.Length; i++) { sa[i] = (float)rng.NextDouble() - 0.5f; sb[i] = (float)rng.NextDouble() - 0.5f; }
        float* pa = (float*)a.Pointer, pb = (float*)b.Pointer, pc = (float*)c.Pointer;

        Gemm.Run(Transpose.No, Transpose.Yes, size, size, size, 1f, pa, size, pb, size, 0f, pc, size, null, pool);
        double maxErr = 0;
        for (int j = 0; j < size; j++)
        {
            double want = 0;
            for (int p = 0; p < size; p++) want += (double)pa[p] * pb[(long)j * size + p];
            maxErr = Math.Max(maxErr, Math.Abs(want - pc[j]));
        }

        var sw = Stopwatch.StartNew();
        int calls = 0;
        do
        {
            Gemm.Run(Transpose.No, Transpose.Yes, size, size, size, 1f, pa, size, pb, size, 0f, pc, size, null, pool);
            calls++;
        } while (sw.Elapsed.TotalSeconds < seconds);
        double elapsed = sw.Elapsed.TotalSeconds;
        return new GemmMeasurement(size, pool.ThreadCount, calls, elapsed, 2.0 * size * size * size * calls / elapsed / 1e9, maxErr, Gemm.SelectedPath);
    }
}
