// The measured FMA peak of each vector width: what "100% of the CPU" means for MFU figures.
// Each thread runs 16 independent chains acc = acc·m + c of FusedMultiplyAdd on Vector128,
// Vector256 or Vector512: 16 chains cover the latency (4 cycles) times the number of FMA pipes
// (2) of current cores twice over, so the loop is bound by FMA throughput alone. The rate
// counts 2 FLOPs per lane per FMA. The best of several timed repetitions is reported, because
// interference (other processes, frequency ramp-up) only ever lowers a peak.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Core.Threading;

namespace Loom.Core.Diagnostics;

/// <summary>A measured FMA peak: <paramref name="Bits"/>-wide vectors on <paramref name="Threads"/> threads.</summary>
public sealed record FmaPeakMeasurement(int Bits, int Threads, double GflopsPerSecond)
{
    /// <summary>The instruction set the width needs, as `loom doctor` prints it.</summary>
    public string Isa => Bits switch { 512 => "AVX-512F", 256 => "AVX2/FMA (256-bit)", _ => "FMA (128-bit)" };
}

/// <summary>Measures the FMA throughput of each vector width the CPU offers.</summary>
public static unsafe class FmaPeak
{
    private const int Chains = 16;
    private static float s_sink;

    /// <summary>Vector widths in bits that have hardware FMA here, narrowest first.</summary>
    public static IReadOnlyList<int> AvailableWidths()
    {
        var widths = new List<int>();
        if (Fma.IsSupported) { widths.Add(128); widths.Add(256); }
        if (Avx512F.IsSupported) widths.Add(512);
        return widths;
    }

    /// <summary>The widest width with hardware FMA, or 0 when there is none.</summary>
    public static int WidestWidth => AvailableWidths().LastOrDefault();

    /// <summary>Measures the FMA peak of <paramref name="bits"/>-wide vectors on every thread of <paramref name="pool"/> for about <paramref name="seconds"/>.</summary>
    public static FmaPeakMeasurement Measure(int bits, double seconds = 0.3, WorkerPool? pool = null)
    {
        if (!AvailableWidths().Contains(bits))
            throw new NotSupportedException($"This CPU (or runtime configuration) has no {bits}-bit FMA; available widths: {string.Join(", ", AvailableWidths())}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seconds);
        pool ??= WorkerPool.Shared;
        int lanes = bits / 32;
        // Calibrate: iterations for about 10 ms on one thread.
        long iters = 1 << 14;
        while (true)
        {
            var sw = Stopwatch.StartNew();
            pool.Run(new Job { Bits = bits, Iterations = iters });
            if (sw.Elapsed.TotalSeconds > 0.01 || iters > 1L << 40) break;
            iters *= 2;
        }
        double best = 0, spent = 0;
        int reps = 0;
        while (reps < 3 || spent < seconds)
        {
            var sw = Stopwatch.StartNew();
            pool.Run(new Job { Bits = bits, Iterations = iters });
            double t = sw.Elapsed.TotalSeconds;
            spent += t;
            reps++;
            best = Math.Max(best, (double)iters * Chains * lanes * 2 * pool.ThreadCount / t / 1e9);
        }
        return new FmaPeakMeasurement(bits, pool.ThreadCount, best);
    }

    private struct Job : IParallelJob
    {
        public int Bits;
        public long Iterations;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            float sink = Bits switch
            {
                512 => Chain512(Iterations),
                256 => Chain256(Iterations),
                _ => Chain128(Iterations),
            };
            s_sink = sink; // keeps the chains live
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain512(long n)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-6f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector512<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        for (long i = 0; i < n; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c); a1 = Avx512F.FusedMultiplyAdd(a1, m, c);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, c); a3 = Avx512F.FusedMultiplyAdd(a3, m, c);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, c); a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c); a7 = Avx512F.FusedMultiplyAdd(a7, m, c);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, c); a9 = Avx512F.FusedMultiplyAdd(a9, m, c);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, c); a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
            a12 = Avx512F.FusedMultiplyAdd(a12, m, c); a13 = Avx512F.FusedMultiplyAdd(a13, m, c);
            a14 = Avx512F.FusedMultiplyAdd(a14, m, c); a15 = Avx512F.FusedMultiplyAdd(a15, m, c);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15));
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain256(long n)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-6f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector256<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        for (long i = 0; i < n; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c);
            a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
            a12 = Fma.MultiplyAdd(a12, m, c); a13 = Fma.MultiplyAdd(a13, m, c);
            a14 = Fma.MultiplyAdd(a14, m, c); a15 = Fma.MultiplyAdd(a15, m, c);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15));
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain128(long n)
    {
        var m = Vector128.Create(0.999999f);
        var c = Vector128.Create(1e-6f);
        Vector128<float> a0 = Vector128.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector128<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        for (long i = 0; i < n; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c);
            a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
            a12 = Fma.MultiplyAdd(a12, m, c); a13 = Fma.MultiplyAdd(a13, m, c);
            a14 = Fma.MultiplyAdd(a14, m, c); a15 = Fma.MultiplyAdd(a15, m, c);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15));
        return Vector128.Sum(s);
    }
}
