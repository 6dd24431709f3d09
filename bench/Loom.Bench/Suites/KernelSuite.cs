// The `kernels` suite: effective bandwidth (GB/s) of the elementwise and normalisation kernels
// on tensors far larger than the caches, at each thread count. Bytes are the minimum a kernel
// must move (each input read once, each output written once). The anchor is a parallel memory
// copy of the same number of bytes, measured in the same run: ratio = kernel GB/s ÷ copy GB/s,
// so 1.0 means "as fast as memory allows" and the target (within 1.5× of bandwidth time) is ≥ 0.67.
// Where Vector512 is accelerated, the suite first runs itself in a child process with
// DOTNET_EnableAVX512=0 (and DOTNET_EnableAVX512F=0, the .NET 8/9 name; the AVX2 path, SelfProcess) and prints each kernel's speed-up over it.
using System.Runtime.Intrinsics;
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
        // w then b, each on its own 64-byte lines (the managed arrays above start 16 bytes into a line).
        using var wbAligned = new NativeBuffer(2L * Cols * 4);
        // A second output tensor, 2 KiB longer, for the LayerNorm variant that shifts y (touched only then).
        using var ySpare = new NativeBuffer((long)N * 4 + 2048, zero: true);
        w.CopyTo(wbAligned.AsSpan<float>()[..Cols]);
        b.CopyTo(wbAligned.AsSpan<float>()[Cols..]);
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
                if (CompareVariants && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated
                    && Variants(name, pool, run, (float*)px, (float*)py, w, b, mean, rstd, wbAligned, ySpare) is { } variants)
                    CompareVariant(ctx, caseName, bytes, threads, variants);
            }
        }
        if (child)
        {
            Console.Out.Flush();
            Environment.Exit(0);
        }
    }

    // LOOM_BENCH_KERNEL_VARIANTS=1: variants of one kernel timed alternately in the same process (three
    // rounds, each variant once per round), so the load of a shared machine hits all of them alike and
    // no second process (its own page placement, its own JIT) enters the comparison: the softmax rows'
    // fused AVX-512 routine with and without next-row prefetching against VectorOps' general passes;
    // LayerNorm forward with and without prefetching, with 64-byte-aligned weights, and the AVX2 path's
    // code written with Vector256 (this process's AVX2 figure); exp with vscalefps against the shift.
    private static readonly bool CompareVariants = Environment.GetEnvironmentVariable("LOOM_BENCH_KERNEL_VARIANTS") == "1";

    private static (string Name, Action Run)[]? Variants(string name, WorkerPool pool, Kernel run, float* x, float* y,
        float[] w, float[] b, float[] mean, float[] rstd, NativeBuffer wbAligned, NativeBuffer ySpare)
    {
        if (name.StartsWith("softmax") && !name.Contains("backward"))
            return
            [
                ("fused AVX-512 row, prefetching", () => { Softmax.FusedRowAvx512 = true; Softmax.PrefetchNextRow = true; run(pool); }),
                ("fused AVX-512 row, no prefetch", () => { Softmax.FusedRowAvx512 = true; Softmax.PrefetchNextRow = false; run(pool); }),
                ("VectorOps passes", () => { Softmax.FusedRowAvx512 = false; run(pool); }),
            ];
        if (name == "layernorm forward")
        {
            float* wa = (float*)wbAligned.Pointer, ba = wa + Cols;
            // y 2 KiB further along: x[i] and y[i] then differ in address bits 11..0, so a load of x
            // cannot falsely wait on a pending store to y at the same offset modulo 4 KiB.
            float* yShifted = (float*)ySpare.Pointer + 512;
            void Avx512(bool prefetch, float* yy, float* ww, float* bb)
            {
                LayerNorm.PrefetchNextRow = prefetch;
                LayerNorm.Forward(new ReadOnlySpan<float>(x, N), new ReadOnlySpan<float>(ww, Cols), new ReadOnlySpan<float>(bb, Cols), new Span<float>(yy, N), mean, rstd, Cols, 1e-5f, pool);
            }
            void Vector256Row(float* yy, bool prefetch = false)
            {
                fixed (float* pw = w, pb = b, pm = mean, pr = rstd)
                    Ranges.Run(pool, Rows, Cols * 3L, new LayerNormVector256 { X = x, W = pw, B = pb, Y = yy, Mean = pm, Rstd = pr, Cols = Cols, Eps = 1e-5f, Prefetch = prefetch });
            }
            return
            [
                ("AVX-512 row, prefetching", () => { LayerNorm.PrefetchNextRow = true; run(pool); }),
                ("AVX-512 row, no prefetch", () => { LayerNorm.PrefetchNextRow = false; run(pool); }),
                ("Vector256 row (AVX2 path's code)", () => Vector256Row(y)),
                ("AVX-512 row, prefetching, aligned w/b", () => Avx512(true, y, wa, ba)),
                ("AVX-512 row, no prefetch, y + 2 KiB", () => { fixed (float* pw = w, pb = b) Avx512(false, yShifted, pw, pb); }),
                ("Vector256 row, y + 2 KiB", () => Vector256Row(yShifted)),
                ("Vector256 row, prefetching like AVX-512", () => Vector256Row(y, prefetch: true)),
            ];
        }
        if (name == "exp")
            return
            [
                ("FastMath.Exp", () => run(pool)),
                ("2^n by shift and multiply", () => Elementwise.Unary<ExpShiftOp>(new ReadOnlySpan<float>(x, N), new Span<float>(y, N), pool)),
            ];
        return null;
    }

    private static void CompareVariant(BenchContext ctx, string caseName, long bytes, int threads, (string Name, Action Run)[] variants)
    {
        var rates = variants.Select(_ => new List<double>()).ToArray();
        try
        {
            for (int round = 0; round < 3; round++)
                for (int v = 0; v < variants.Length; v++)
                    rates[v].Add(bytes / ctx.Time(variants[v].Run, threads) / 1e9);
        }
        finally
        {
            Softmax.FusedRowAvx512 = true;
            Softmax.PrefetchNextRow = true;
            LayerNorm.PrefetchNextRow = true;
        }
        double first = rates[0].Max();
        for (int v = 0; v < variants.Length; v++)
        {
            double best = rates[v].Max();
            ctx.Rows.Add(new BenchRow(caseName, "gb_per_s_variant", Math.Round(best, 2), "GB/s") { Kernel = variants[v].Name, Anchor = Math.Round(first, 2), AnchorName = variants[0].Name, Ratio = Math.Round(best / first, 3) });
            string all = string.Join(" ", rates[v].Select(r => r.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)));
            Console.WriteLine($"{caseName,-44}   variant {variants[v].Name,-40} best {best,6:F1} GB/s (rounds {all})  ÷ first {best / first:F3}");
        }
    }

    // The AVX2 path's LayerNorm forward (VectorOps' Vector256 branch: two 8-lane accumulators = 16 lanes,
    // lanes stored and added in order; then 8 floats at a time), run in this AVX-512 process; with
    // Prefetch, the next row's lines are prefetched as LayerNorm's AVX-512 rows do (one per 64 bytes).
    private struct LayerNormVector256 : IRangeKernel
    {
        public float* X, W, B, Y, Mean, Rstd;
        public int Cols;
        public float Eps;
        public bool Prefetch;

        public readonly void Run(int start, int end)
        {
            float* lanes = stackalloc float[16];
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * Cols, y = Y + (long)r * Cols;
                long ahead = Prefetch && r + 1 < end ? Cols : 0;
                Vector256<float> a0 = default, a1 = default;
                int i = 0;
                for (; i <= Cols - 16; i += 16) { a0 += Vector256.Load(x + i); a1 += Vector256.Load(x + i + 8); }
                float s = LaneSum(a0, a1, lanes);
                for (; i < Cols; i++) s += x[i];
                float mu = s / Cols;
                var vmu = Vector256.Create(mu);
                a0 = default; a1 = default;
                for (i = 0; i <= Cols - 16; i += 16)
                {
                    if (Prefetch) System.Runtime.Intrinsics.X86.Sse.Prefetch0(x + ahead + i);
                    var d0 = Vector256.Load(x + i) - vmu; a0 += d0 * d0;
                    var d1 = Vector256.Load(x + i + 8) - vmu; a1 += d1 * d1;
                }
                s = LaneSum(a0, a1, lanes);
                for (; i < Cols; i++) { float d = x[i] - mu; s += d * d; }
                float rs = 1f / MathF.Sqrt(s / Cols + Eps);
                Mean[r] = mu;
                Rstd[r] = rs;
                var vrs = Vector256.Create(rs);
                for (i = 0; i <= Cols - 8; i += 8)
                {
                    if (Prefetch && (i & 15) == 0) System.Runtime.Intrinsics.X86.Sse.Prefetch0(y + ahead + i);
                    ((Vector256.Load(x + i) - vmu) * vrs * Vector256.Load(W + i) + Vector256.Load(B + i)).Store(y + i);
                }
                for (; i < Cols; i++) y[i] = (x[i] - mu) * rs * W[i] + B[i];
            }
        }

        private static float LaneSum(Vector256<float> lo, Vector256<float> hi, float* lanes)
        {
            lo.Store(lanes);
            hi.Store(lanes + 8);
            float s = lanes[0];
            for (int j = 1; j < 16; j++) s += lanes[j];
            return s;
        }
    }

    // FastMath.Exp's Vector512 body as it was before vscalefps (2ⁿ built as (n + 127) << 23, then a multiply).
    private readonly struct ExpShiftOp : IUnaryOperator
    {
        public static float Invoke(float x) => FastMath.Exp(x);
        public static Vector128<float> Invoke(Vector128<float> x) => FastMath.Exp(x);
        public static Vector256<float> Invoke(Vector256<float> x) => FastMath.Exp(x);

        public static Vector512<float> Invoke(Vector512<float> x)
        {
            var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-87.33654f)), Vector512.Create(88.37626f));
            var n = Vector512.Round(xc * Vector512.Create(1.44269504088896341f));
            var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), xc);
            r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
            var p = Vector512.Create(1.9875691500E-4f);
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507E-3f));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073E-3f));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894E-2f));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459E-1f));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201E-1f));
            var y = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
            y *= Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
            y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-87.33654f)), Vector512<float>.Zero, y);
            y = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(88.72284f)), Vector512.Create(float.PositiveInfinity), y);
            return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
        }
    }

    // exp alone (FastMath's Cephes polynomial), as the other exp-bound kernels drive it.
    private readonly struct ExpOp : IUnaryOperator
    {
        public static float Invoke(float x) => FastMath.Exp(x);
        public static Vector128<float> Invoke(Vector128<float> x) => FastMath.Exp(x);
        public static Vector256<float> Invoke(System.Runtime.Intrinsics.Vector256<float> x) => FastMath.Exp(x);
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
