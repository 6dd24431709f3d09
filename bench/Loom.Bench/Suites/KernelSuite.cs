// The `kernels` suite: effective bandwidth (GB/s) of the elementwise and normalisation kernels
// on tensors far larger than the caches, at each thread count. Bytes are the minimum a kernel
// must move (each input read once, each output written once). The anchor is a parallel memory
// copy of the same number of bytes, measured in the same run: ratio = kernel GB/s ÷ copy GB/s,
// so 1.0 means "as fast as memory allows" and the target (within 1.5× of bandwidth time) is ≥ 0.67.
// Where Vector512 is accelerated, the suite first runs itself in a child process with
// DOTNET_EnableAVX512=0 (and DOTNET_EnableAVX512F=0, the .NET 8/9 name; the AVX2 path, SelfProcess) and prints each kernel's speed-up over it.
using Loom.Core.Kernels;
using Loom.Core.Tensors;
using Loom.Core.Threading;

namespace Loom.Bench.Suites;

internal static unsafe class KernelSuite
{
    // 32768 rows of GPT-2's width 768 ≈ 25M floats = 100 MB per tensor: well past any L3 here
    // (a 25 MB tensor still ran from cache at ~58 GB/s), so the figures are DRAM rates.
    private const int Rows = 32 * 1024, Cols = 768;
    private const int N = Rows * Cols;

    private delegate void Kernel(WorkerPool pool);

    public static void Run(BenchContext ctx)
    {
        bool child = SelfProcess.ChildRole == "avx2";
        var avx2 = new Dictionary<string, double>();
        if (!child && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            Console.WriteLine("AVX2 rows: running the suite with DOTNET_EnableAVX512=0 in a child process…");
            var (lines, error) = SelfProcess.Run("kernels", "avx2", ctx, new Dictionary<string, string> { ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX512F"] = "0" });
            if (error != null) Console.WriteLine($"AVX2 child failed: {error}");
            foreach (var parts in lines)
                if (parts is ["rate", var c, var r]) avx2[c] = double.Parse(r, System.Globalization.CultureInfo.InvariantCulture);
        }
        Console.WriteLine($"path: Vector512 {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "on" : "off")}, GEMM {Gemm.SelectedPath}");
        using var xb = new NativeBuffer((long)N * 4, zero: false);
        using var yb = new NativeBuffer((long)N * 4, zero: false);
        using var zb = new NativeBuffer((long)N * 4, zero: false);
        using var mb = new NativeBuffer((long)N * 4);
        using var vb = new NativeBuffer((long)N * 4);
        using var bfb = new NativeBuffer((long)N * 2);
        var rng = new Random(1);
        foreach (var buf in new[] { xb, yb, zb })
        {
            var s = buf.AsSpan<float>();
            for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 4 - 2);
        }
        float* x = (float*)xb.Pointer, y = (float*)yb.Pointer, z = (float*)zb.Pointer;
        float* m = (float*)mb.Pointer, v = (float*)vb.Pointer;
        nint px = (nint)x, py = (nint)y, pz = (nint)z, pm = (nint)m, pv = (nint)v, pbf = (nint)bfb.Pointer;
        var w = new float[Cols]; var b = new float[Cols]; var dw = new float[Cols]; var db = new float[Cols];
        var mean = new float[Rows]; var rstd = new float[Rows];
        Array.Fill(w, 1.1f); Array.Fill(b, 0.1f);
        // Cross-entropy over a GPT-2 vocabulary: 500 rows × 50257 logits ≈ 100 MB.
        const int ceRows = 500, vocab = 50257;
        var targets = Enumerable.Range(0, ceRows).Select(i => i * 7 % vocab).ToArray();
        var losses = new float[ceRows];
        // Embedding: 8192 tokens gathered from a 50257×768 table.
        var ids = Enumerable.Range(0, Rows).Select(i => i * 31 % vocab).ToArray();
        using var table = new NativeBuffer((long)vocab * Cols * 4);
        nint ptable = (nint)table.Pointer;

        Span<float> S(nint p, int n) => new((float*)p, n);
        // Key padding for the padded softmax: a BERT-like batch, each group of 1024 rows keeping its first
        // 1024 − 97·g (mod 1024) keys.
        var keep = new byte[(N / 1024 + 1023) / 1024 * 1024];
        for (int g = 0; g < keep.Length / 1024; g++)
            for (int j = 0; j < 1024 - 97 * g % 1024; j++) keep[g * 1024 + j] = 1;
        var cases = new (string Name, long Bytes, Kernel Run)[]
        {
            ("copy (anchor)", 2L * N * 4, pool => CopyJob.Run(pool, (float*)px, (float*)py, N)),
            ("exp", 2L * N * 4, pool => Elementwise.Unary<ExpOp>(S(px, N), S(py, N), pool)),
            ("gelu forward", 2L * N * 4, pool => Activations.GeluForward(S(px, N), S(py, N), pool)),
            ("gelu backward", 3L * N * 4, pool => Activations.GeluBackward(S(px, N), S(py, N), S(pz, N), pool)),
            ("silu forward", 2L * N * 4, pool => Activations.SiluForward(S(px, N), S(py, N), pool)),
            ("silu backward", 3L * N * 4, pool => Activations.SiluBackward(S(px, N), S(py, N), S(pz, N), pool)),
            ("bias add", 2L * N * 4, pool => Bias.Forward(S(px, N), b, S(py, N), pool)),
            ("layernorm forward", 2L * N * 4, pool => LayerNorm.Forward(S(px, N), w, b, S(py, N), mean, rstd, Cols, 1e-5f, pool)),
            ("layernorm backward", 3L * N * 4, pool => LayerNorm.Backward(S(py, N), S(px, N), w, mean, rstd, S(pz, N), dw, db, Cols, false, pool)),
            ("rmsnorm forward", 2L * N * 4, pool => RmsNorm.Forward(S(px, N), w, S(py, N), rstd, Cols, 1e-6f, pool)),
            ("softmax forward T=1024", 2L * N * 4, pool => Softmax.Forward(S(px, N), S(py, N), 1024, default, pool)),
            ("softmax causal T=1024", 2L * N * 4, pool => Softmax.Forward(S(px, N), S(py, N), 1024, SoftmaxMask.CausalSquare, pool)),
            ("softmax padding T=1024", 2L * N * 4, pool => Softmax.Forward(S(px, N), S(py, N), 1024, new SoftmaxMask { KeyPadding = keep, RowsPerMaskRow = 1024 }, pool)),
            ("softmax backward T=1024", 3L * N * 4, pool => Softmax.Backward(S(py, N), S(px, N), S(pz, N), 1024, pool)),
            ("cross-entropy fwd+bwd V=50257", 2L * ceRows * vocab * 4, pool => CrossEntropy.ForwardBackward(S(px, ceRows * vocab), targets, vocab, losses, S(py, ceRows * vocab), -100, 1f, pool)),
            ("adamw update", 7L * N * 4, pool => AdamW.Update(S(py, N), S(px, N), S(pm, N), S(pv, N), new AdamWSettings(1e-4f), 1, pool)),
            ("f32 to bf16", 6L * N, pool => Precision.ToBFloat16(S(px, N), new Span<BFloat16>((void*)pbf, N))),
            ("embedding forward", 2L * Rows * Cols * 4, pool => Embedding.Forward(ids, S(ptable, vocab * Cols), Cols, S(py, N), pool)),
            ("embedding backward", 3L * Rows * Cols * 4, pool => Embedding.Backward(ids, S(py, N), S(ptable, vocab * Cols), Cols, pool)),
            ("bias backward", 1L * N * 4, pool => Bias.Backward(S(px, N), db, pool)),
        };

        foreach (int threads in ctx.Threads)
        {
            var pool = ctx.Pool(threads);
            if (child) Console.Out.Flush();
            double copyGbs = 0;
            foreach (var (name, bytes, run) in cases)
            {
                string caseName = $"{name} threads={threads}";
                if (!ctx.Selected(caseName) && !name.StartsWith("copy")) continue;
                double t = ctx.Time(() => run(pool), threads);
                double gbs = bytes / t / 1e9;
                if (name.StartsWith("copy")) copyGbs = gbs;
                var row = new BenchRow(caseName, "gb_per_s", Math.Round(gbs, 2), "GB/s");
                if (!name.StartsWith("copy") && copyGbs > 0)
                    row = row with { Anchor = Math.Round(copyGbs, 2), Ratio = Math.Round(gbs / copyGbs, 3) };
                if (child)
                {
                    Console.WriteLine($"rate\t{caseName}\t{gbs.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
                    continue;
                }
                ctx.Rows.Add(row);
                ctx.Rows.Add(new BenchRow(caseName, "ms", Math.Round(t * 1e3, 3), "ms"));
                string vsAvx2 = "";
                if (avx2.TryGetValue(caseName, out double a2))
                {
                    ctx.Rows.Add(new BenchRow(caseName, "speedup_vs_avx2", Math.Round(gbs / a2, 3), "x") { Anchor = Math.Round(a2, 2), AnchorName = "same kernel, DOTNET_EnableAVX512=0" });
                    vsAvx2 = $"  AVX2 {a2,6:F1} GB/s  ×{gbs / a2:F2}";
                }
                Console.WriteLine($"{caseName,-44} {gbs,7:F1} GB/s  {t * 1e3,8:F2} ms" + (row.Ratio is { } r ? $"  vs copy {r:F2}" : "") + vsAvx2);
                if (CompareVariants && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && name.StartsWith("softmax") && !name.Contains("backward"))
                    CompareVariant(ctx, caseName, bytes, threads, () => run(pool));
            }
        }
        if (child)
        {
            Console.Out.Flush();
            Environment.Exit(0);
        }
    }

    // LOOM_BENCH_KERNEL_VARIANTS=1: the fused AVX-512 softmax row against VectorOps' general passes,
    // alternating in the same process (two rounds each, best of each kept), so the load on a shared
    // machine hits both alike.
    private static readonly bool CompareVariants = Environment.GetEnvironmentVariable("LOOM_BENCH_KERNEL_VARIANTS") == "1";

    private static void CompareVariant(BenchContext ctx, string caseName, long bytes, int threads, Action run)
    {
        double on = 0, off = 0;
        try
        {
            for (int round = 0; round < 2; round++)
            {
                Softmax.FusedRowAvx512 = true;
                on = Math.Max(on, bytes / ctx.Time(run, threads) / 1e9);
                Softmax.FusedRowAvx512 = false;
                off = Math.Max(off, bytes / ctx.Time(run, threads) / 1e9);
            }
        }
        finally
        {
            Softmax.FusedRowAvx512 = true;
        }
        const string what = "fused AVX-512 row vs VectorOps passes";
        ctx.Rows.Add(new BenchRow(caseName, "gb_per_s_new_kernel", Math.Round(on, 2), "GB/s") { Anchor = Math.Round(off, 2), AnchorName = what, Ratio = Math.Round(on / off, 3) });
        Console.WriteLine($"{caseName,-44}   {what}: {on,6:F1} vs {off,6:F1} GB/s  ratio {on / off:F3}");
    }

    // exp alone (FastMath's Cephes polynomial), as the other exp-bound kernels drive it.
    private readonly struct ExpOp : IUnaryOperator
    {
        public static float Invoke(float x) => FastMath.Exp(x);
        public static System.Runtime.Intrinsics.Vector128<float> Invoke(System.Runtime.Intrinsics.Vector128<float> x) => FastMath.Exp(x);
        public static System.Runtime.Intrinsics.Vector256<float> Invoke(System.Runtime.Intrinsics.Vector256<float> x) => FastMath.Exp(x);
        public static System.Runtime.Intrinsics.Vector512<float> Invoke(System.Runtime.Intrinsics.Vector512<float> x) => FastMath.Exp(x);
    }

    // The bandwidth anchor: each thread copies its share with Span.CopyTo (memmove).
    private struct CopyJob : IParallelJob
    {
        public float* Src, Dst;
        public int N;

        public static void Run(WorkerPool pool, float* src, float* dst, int n) => pool.Run(new CopyJob { Src = src, Dst = dst, N = n });

        public readonly void Execute(int t, int count)
        {
            var (s, e) = WorkerPool.PartitionAligned(N, 16, t, count);
            new ReadOnlySpan<float>(Src + s, e - s).CopyTo(new Span<float>(Dst + s, e - s));
        }
    }
}
