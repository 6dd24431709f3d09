// The `gemm` suite: GFLOP/s of Loom's SGEMM (the selected micro-kernel, see Gemm.SelectedPath)
// in the three layouts training uses, at each thread count, on square sizes and the GPT-2 124M
// training shapes; OpenBLAS on the same shapes when it is installed, twice: with its AVX-512
// kernels (OPENBLAS_CORETYPE=SkylakeX, the ratio's anchor) and its AVX2 kernels (Haswell), each
// in a child process because OpenBLAS fixes its kernels when it loads (OpenBlasChild). The
// children stay up for the whole run and time each case just before Loom does, so a ratio's two
// figures are seconds apart, not minutes (see OpenBlasChild). The child checks OpenBLAS against
// Loom on each case before timing it. LOOM_BENCH_OPENBLAS_CORETYPES (comma-separated) overrides
// the core types, the first being the ratio's anchor; "none" times Loom alone.
// LOOM_BENCH_GEMM_ROUNDS=N runs the whole list N times in the one process (default 1; the JSON keeps
// the last round), which shows whether a case's rate drifts as the process ages.
// Batched cases ("attn B·H×(m×k×n) LAYOUT") are attention's per-head products of GPT-2 124M
// (12 heads of 64) at B=4,T=64 (48 products of 64×64×64) and B=8,T=256 (96 of T×T×64 and
// T×64×T), through Gemm.SgemmBatched; OpenBLAS 0.3.21 has no batched SGEMM, so its anchor calls
// cblas_sgemm once per item, as a caller of OpenBLAS would.
using Loom.Bench.Anchors;
using Loom.Core.Kernels;
using Loom.Core.Tensors;

namespace Loom.Bench.Suites;

internal static unsafe class GemmSuite
{
    // Layout names follow the training role, e.g. "NT" = X·Wᵀ (forward), "NN" = dY·W
    // (input gradient), "TN" = dYᵀ·X (weight gradient). m/k/n are those of the forward X[m×k]·W[n×k]ᵀ.
    private enum Layout { NT, NN, TN }

    public static void Run(BenchContext ctx)
    {
        var shapes = new List<(int M, int K, int N)> { (1024, 1024, 1024), (2048, 2048, 2048) };
        foreach (int m in new[] { 256, 2048 })
            foreach (var (k, n) in new[] { (768, 2304), (768, 768), (768, 3072), (3072, 768), (768, 50304) })
                shapes.Add((m, k, n));

        var cases = new List<(string Name, Layout Layout, int M, int K, int N, int Threads)>();
        foreach (var (m, k, n) in shapes)
            foreach (var layout in new[] { Layout.NT, Layout.NN, Layout.TN })
                foreach (int threads in ctx.Threads)
                {
                    string name = $"{m}x{k}x{n} {layout} threads={threads}";
                    if (ctx.Selected(name)) cases.Add((name, layout, m, k, n, threads));
                }

        // (batch, m, k, n) of attention's products, in the training role's layout: NT = Q·Kᵀ and
        // dP = dY·Vᵀ, NN = P·V and dQ = dS·K, TN = dV = Pᵀ·dY and dK = dSᵀ·Q. m×k×n here is the GEMM's own.
        var batchedCases = new List<(string Name, Layout Layout, int Batch, int M, int K, int N, int Threads)>();
        foreach (var (batch, t) in new[] { (48, 64), (96, 256) })
            foreach (var layout in new[] { Layout.NT, Layout.NN, Layout.TN })
                foreach (int threads in ctx.Threads)
                {
                    var (m, k, n) = layout == Layout.NT ? (t, 64, t) : (t, t, 64);
                    string name = $"attn {batch}x({m}x{k}x{n}) {layout} threads={threads}";
                    if (ctx.Selected(name)) batchedCases.Add((name, layout, batch, m, k, n, threads));
                }

        // Every case in suite order; given the anchor children it times Loom (parent), given null it
        // times OpenBLAS and returns its GFLOP/s (child).
        var all = new List<(string Name, Func<List<OpenBlasChild>?, double?> Run)>();
        foreach (var c in cases) all.Add((c.Name, anchors => RunCase(ctx, c.Name, c.Layout, c.M, c.K, c.N, c.Threads, anchors)));
        foreach (var c in batchedCases) all.Add((c.Name, anchors => RunBatchedCase(ctx, c.Name, c.Layout, c.Batch, c.M, c.K, c.N, c.Threads, anchors)));

        if (OpenBlasChild.IsChild)
        {
            ServeAnchor(all);
            Environment.Exit(0);
        }

        var children = new List<OpenBlasChild>();
        string types = Environment.GetEnvironmentVariable("LOOM_BENCH_OPENBLAS_CORETYPES") is { Length: > 0 } coreTypes ? coreTypes : "SkylakeX,Haswell";
        if (types.Equals("none", StringComparison.OrdinalIgnoreCase))
            Console.WriteLine("anchor: none (LOOM_BENCH_OPENBLAS_CORETYPES=none)");
        else if (!OpenBlas.IsAvailable)
            Console.WriteLine("anchor: OpenBLAS not found (apt-get install libopenblas0-pthread to measure the ratio)");
        else
        {
            foreach (var coreType in types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var child = OpenBlasChild.Start(coreType, ctx);
                Console.WriteLine(child.Error is null
                    ? $"anchor: OpenBLAS ({OpenBlas.LoadedFrom}) OPENBLAS_CORETYPE={coreType} → openblas_get_corename() = {child.CoreName}, in a child process timed case by case before Loom"
                    : $"anchor: OpenBLAS OPENBLAS_CORETYPE={coreType} failed: {child.Error}");
                if (child.Error is null) children.Add(child);
                else child.Dispose();
            }
        }
        int rounds = Loom.Core.Threading.WorkerPool.EnvironmentCount("LOOM_BENCH_GEMM_ROUNDS", 1, 1);
        Console.WriteLine($"loom: {Gemm.Describe(Gemm.SelectedPath)}");
        try
        {
            for (int round = 1; round <= rounds; round++)
            {
                if (rounds > 1)
                {
                    ctx.Rows.Clear();
                    Console.WriteLine($"round {round} of {rounds}");
                }
                foreach (var c in all) c.Run(children);
            }
        }
        finally
        {
            foreach (var child in children)
            {
                if (child.Error is not null) Console.WriteLine($"anchor: OpenBLAS OPENBLAS_CORETYPE={child.CoreType} stopped answering: {child.Error}");
                child.Dispose();
            }
        }
    }

    // Child: names OpenBLAS's kernels, then times each case the parent asks for (OpenBlasChild's
    // protocol). It answers after the case's operands are freed and the process is idle, so
    // neither freeing them nor OpenBLAS's polling threads overlap the parent's timing of Loom.
    private static void ServeAnchor(List<(string Name, Func<List<OpenBlasChild>?, double?> Run)> all)
    {
        Console.WriteLine($"corename\t{OpenBlas.CoreName ?? "unknown"}");
        Console.Out.Flush();
        var byName = new Dictionary<string, Func<List<OpenBlasChild>?, double?>>();
        foreach (var (name, run) in all) byName[name] = run;
        while (Console.In.ReadLine() is { } line)
        {
            if (line.Split('\t') is not ["case", var name]) continue;
            string reply;
            try
            {
                if (!byName.TryGetValue(name, out var run))
                    throw new InvalidOperationException($"the child has no case named \"{name}\" (parent and child selected different cases)");
                double rate = run(null) ?? throw new InvalidOperationException("no rate");
                reply = $"anchor\t{name}\t{rate.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
            }
            catch (Exception e)
            {
                reply = $"error\t{name}\t{e.Message.ReplaceLineEndings(" ").Replace('\t', ' ')}";
            }
            OpenBlasChild.WaitUntilIdle();
            Console.WriteLine(reply);
            Console.Out.Flush();
        }
    }

    // The anchors' GFLOP/s on one case, measured now, one per child (null where a child failed).
    private static double?[] MeasureAnchors(List<OpenBlasChild> children, string name)
    {
        var rates = new double?[children.Count];
        for (int i = 0; i < children.Count; i++) rates[i] = children[i].Measure(name);
        return rates;
    }

    private static double? RunBatchedCase(BenchContext ctx, string name, Layout layout, int batch, int m, int k, int n, int threads, List<OpenBlasChild>? anchors)
    {
        var (ta, tb) = layout switch
        {
            Layout.NT => (Transpose.No, Transpose.Yes),
            Layout.NN => (Transpose.No, Transpose.No),
            _ => (Transpose.Yes, Transpose.No),
        };
        int lda = ta == Transpose.No ? k : m, ldb = tb == Transpose.No ? n : k;
        long sa = (long)m * k, sb = (long)k * n, sc = (long)m * n;
        using var ab = new NativeBuffer(batch * sa * 4, zero: false);
        using var bb = new NativeBuffer(batch * sb * 4, zero: false);
        using var outLoom = new NativeBuffer(batch * sc * 4);
        using var outRef = new NativeBuffer(batch * sc * 4);
        Fill(ab, 4); Fill(bb, 5);
        nint pa = (nint)ab.Pointer, pb = (nint)bb.Pointer, pl = (nint)outLoom.Pointer, pr = (nint)outRef.Pointer;
        var pool = ctx.Pool(threads);
        double flops = 2.0 * batch * m * n * k;

        void Loom() => Gemm.SgemmBatched(ta, tb, m, n, k, 1f, ab.AsSpan<float>(), lda, sa, bb.AsSpan<float>(), ldb, sb,
            0f, outLoom.AsSpan<float>(), n, sc, batch, pool);
        void Blas()
        {
            for (int i = 0; i < batch; i++)
                OpenBlas.Sgemm(ta == Transpose.Yes, tb == Transpose.Yes, m, n, k, 1f, (float*)pa + i * sa, lda, (float*)pb + i * sb, ldb, 0f, (float*)pr + i * sc, n);
        }

        if (anchors is null)
        {
            Loom();
            OpenBlas.SetThreads(threads);
            Blas();
            Check(name, (float*)pl, (float*)pr, batch * sc, k);
            return flops / ctx.Time(Blas, threads) / 1e9;
        }
        Loom();
        var rates = MeasureAnchors(anchors, name);
        Report(ctx, name, flops / ctx.Time(Loom, threads) / 1e9, anchors, rates);
        return null;
    }

    private static double? RunCase(BenchContext ctx, string name, Layout layout, int m, int k, int n, int threads, List<OpenBlasChild>? anchors)
    {
        // Operands of the training role: X[m×k], W[n×k], Y/dY[m×n], dX[m×k], dW[n×k].
        using var x = new NativeBuffer((long)m * k * 4, zero: false);
        using var w = new NativeBuffer((long)n * k * 4, zero: false);
        using var y = new NativeBuffer((long)m * n * 4, zero: false);
        using var outLoom = new NativeBuffer(Math.Max((long)m * n, Math.Max((long)m * k, (long)n * k)) * 4);
        using var outRef = new NativeBuffer(outLoom.ByteLength);
        Fill(x, 1); Fill(w, 2); Fill(y, 3);
        float* px = (float*)x.Pointer, pw = (float*)w.Pointer, py = (float*)y.Pointer;
        float* pl = (float*)outLoom.Pointer, pr = (float*)outRef.Pointer;
        var pool = ctx.Pool(threads);

        // (transA, transB, M, N, K, A, lda, B, ldb, ldc) of the GEMM this role performs.
        var (ta, tb, gm, gn, gk, a, lda, b, ldb, ldc) = layout switch
        {
            Layout.NT => (Transpose.No, Transpose.Yes, m, n, k, (nint)px, k, (nint)pw, k, n),   // Y  = X·Wᵀ
            Layout.NN => (Transpose.No, Transpose.No, m, k, n, (nint)py, n, (nint)pw, k, k),    // dX = dY·W
            _ => (Transpose.Yes, Transpose.No, n, k, m, (nint)py, n, (nint)px, k, k),           // dW = dYᵀ·X
        };
        nint pln = (nint)pl, prn = (nint)pr;
        double flops = 2.0 * gm * gn * gk;

        void Loom() => Gemm.Run(ta, tb, gm, gn, gk, 1f, (float*)a, lda, (float*)b, ldb, 0f, (float*)pln, ldc, null, pool);
        void Blas() => OpenBlas.Sgemm(ta == Transpose.Yes, tb == Transpose.Yes, gm, gn, gk, 1f, (float*)a, lda, (float*)b, ldb, 0f, (float*)prn, ldc);

        if (anchors is null)
        {
            // Child: check OpenBLAS against Loom, then time OpenBLAS alone.
            Loom();
            OpenBlas.SetThreads(threads);
            Blas();
            Check(name, pl, pr, (long)gm * gn, gk);
            return flops / ctx.Time(Blas, threads) / 1e9;
        }

        // Loom once first (code and operands warm), then the anchors on this case, then Loom timed.
        Loom();
        var rates = MeasureAnchors(anchors, name);
        Report(ctx, name, flops / ctx.Time(Loom, threads) / 1e9, anchors, rates);
        if (CompareDrivers && gm <= GemmBlocking.MaxMC) CompareBPacking(ctx, name, flops, threads, Loom);
        if (PackingShare) MeasurePackingShare(ctx, name, ta, tb, gm, gn, gk, (float*)a, lda, (float*)b, ldb, (float*)pln, ldc, threads);
        return null;
    }

    // LOOM_BENCH_GEMM_PACKING=1: what share of one thread's GEMM time its packing takes. Thread 0's
    // share at this thread count (C split along its larger dimension, as Gemm's job splits it) runs
    // on one thread, whole; then the same packing calls alone (every k block's B, every block of A,
    // as the block driver makes them), on the same operands. One thread's CPU time, so it is the same
    // figure on a loaded machine; the packing alone runs with operands as warm as a repeated GEMM has them.
    private static readonly bool PackingShare = Environment.GetEnvironmentVariable("LOOM_BENCH_GEMM_PACKING") == "1";

    private static void MeasurePackingShare(BenchContext ctx, string name, Transpose ta, Transpose tb, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, int threads)
    {
        var blk = GemmBlocking.For(Gemm.SelectedPath);
        if (n >= m)
        {
            var (j0, j1) = Loom.Core.Threading.WorkerPool.PartitionAligned(n, blk.NR, 0, threads);
            n = j1 - j0;
        }
        else
        {
            var (i0, i1) = Loom.Core.Threading.WorkerPool.PartitionAligned(m, blk.MR, 0, threads);
            m = i1 - i0;
        }
        var one = ctx.Pool(1);
        // Lambdas capture addresses as nint (pointers are converted back inside).
        nint na = (nint)a, nb = (nint)b, ncc = (nint)c;
        double tAll = ctx.Time(() => Gemm.Run(ta, tb, m, n, k, 1f, (float*)na, lda, (float*)nb, ldb, 0f, (float*)ncc, ldc, null, one), 1);
        using var pa = new NativeBuffer((long)GemmBlocking.MaxPackA * 4, zero: false);
        using var pb = new NativeBuffer((long)GemmBlocking.MaxPackB * 4, zero: false);
        nint npa = (nint)pa.Pointer, npb = (nint)pb.Pointer;
        int kBlocks = (k + blk.KC - 1) / blk.KC, KC = (k + kBlocks - 1) / kBlocks;
        int MC = m <= GemmBlocking.MaxMC ? (m + blk.MR - 1) / blk.MR * blk.MR : blk.MC;
        double tPackB = ctx.Time(() =>
        {
            for (int jc = 0; jc < n; jc += blk.NC)
                for (int pc = 0; pc < k; pc += KC)
                    GemmPacking.PackB(blk.NR, tb, (float*)nb, ldb, pc, jc, Math.Min(KC, k - pc), Math.Min(blk.NC, n - jc), (float*)npb);
        }, 1);
        double tPackA = ctx.Time(() =>
        {
            for (int jc = 0; jc < n; jc += blk.NC)
                for (int pc = 0; pc < k; pc += KC)
                    for (int ic = 0; ic < m; ic += MC)
                        GemmPacking.PackA(blk.MR, ta, (float*)na, lda, ic, pc, Math.Min(MC, m - ic), Math.Min(KC, k - pc), (float*)npa);
        }, 1);
        ctx.Rows.Add(new BenchRow(name, "packing_share", Math.Round((tPackA + tPackB) / tAll, 4), "fraction")
            { AnchorName = $"thread 0's share {m}x{n}x{k} on one thread: {tAll * 1e3:F3} ms; packing A {tPackA * 1e3:F3} ms, B {tPackB * 1e3:F3} ms" });
        Console.WriteLine($"{name,-36}   thread 0's share {m}x{n}x{k}: {tAll * 1e3,8:F3} ms; packing A {tPackA * 1e3:F3} ms ({tPackA / tAll:P1}), B {tPackB * 1e3:F3} ms ({tPackB / tAll:P1})");
    }

    // LOOM_BENCH_GEMM_DRIVERS=1: for M ≤ MaxMC, also time the block-packing driver (Gemm.PackBPerPanel
    // off) against the per-panel one, alternating in the same process (two rounds each, best of each
    // kept), so a loaded machine affects both alike. Both compute the same bits.
    private static readonly bool CompareDrivers = Environment.GetEnvironmentVariable("LOOM_BENCH_GEMM_DRIVERS") == "1";

    private static void CompareBPacking(BenchContext ctx, string name, double flops, int threads, Action loom)
    {
        double perPanel = 0, block = 0;
        try
        {
            for (int round = 0; round < 2; round++)
            {
                Gemm.PackBPerPanel = true;
                perPanel = Math.Max(perPanel, flops / ctx.Time(loom, threads) / 1e9);
                Gemm.PackBPerPanel = false;
                block = Math.Max(block, flops / ctx.Time(loom, threads) / 1e9);
            }
        }
        finally
        {
            Gemm.PackBPerPanel = true;
        }
        ctx.Rows.Add(new BenchRow(name, "gflops_pack_b_per_panel", Math.Round(perPanel, 2), "GFLOP/s")
            { Anchor = Math.Round(block, 2), AnchorName = "same GEMM, B packed a KC×NC block at a time", Ratio = Math.Round(perPanel / block, 3) });
        Console.WriteLine($"{name,-36}   B per panel {perPanel,7:F1}  B per block {block,7:F1} GFLOP/s  ratio {perPanel / block:F3}");
    }

    private static void Report(BenchContext ctx, string name, double gfLoom, List<OpenBlasChild> anchors, double?[] rates)
    {
        BenchRow row = new(name, "gflops", Math.Round(gfLoom, 2), "GFLOP/s") { Kernel = Gemm.SelectedPath.ToString() };
        string anchorText = "";
        for (int i = 0; i < anchors.Count; i++)
        {
            if (rates[i] is not double gfBlas) continue;
            if (i == 0) row = row with { Anchor = Math.Round(gfBlas, 2), AnchorName = $"openblas {anchors[i].CoreName}", Ratio = Math.Round(gfLoom / gfBlas, 3) };
            else ctx.Rows.Add(new BenchRow(name, $"gflops_openblas_{anchors[i].CoreType.ToLowerInvariant()}", Math.Round(gfBlas, 2), "GFLOP/s")
                { AnchorName = $"openblas {anchors[i].CoreName}", Ratio = Math.Round(gfLoom / gfBlas, 3) });
            anchorText += $"  openblas[{anchors[i].CoreName}] {gfBlas,7:F1} ratio {gfLoom / gfBlas:F3}";
        }
        ctx.Rows.Add(row);
        Console.WriteLine($"{name,-36} loom {gfLoom,7:F1} GFLOP/s{anchorText}");
    }

    private static void Fill(NativeBuffer buf, int seed)
    {
        var rng = new Random(seed);
        var s = buf.AsSpan<float>();
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
    }

    private static void Check(string name, float* got, float* want, long count, int k)
    {
        // Both sum k products of values in [-1, 1]; allow rounding that grows like sqrt(k).
        double tol = 1e-5 * Math.Sqrt(k) * 4;
        for (long i = 0; i < count; i++)
        {
            double d = Math.Abs(got[i] - want[i]);
            if (d > tol * Math.Max(1, Math.Abs(want[i])))
                throw new InvalidOperationException($"{name}: Loom differs from OpenBLAS at {i}: {got[i]} vs {want[i]}.");
        }
    }
}
