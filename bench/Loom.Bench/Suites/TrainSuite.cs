// The `train` suite: GPT-2 124M training steps (forward, backward, AdamW) on random tokens.
// Rows: `gpt2-124M B=4 T=64 threads=2 fp32` with s_per_step, tokens_per_s, mfu and peak_bytes.
// MFU is against the FMA peak of the widest vector width this CPU has (AVX-512 here), measured
// at the start of the run on one thread (FmaPeak, best of repetitions) and multiplied by the
// thread count; the run prints which width and rate it used.
// FLOPs per step: 6·N·tokens for the matmuls plus attention (llm.c's estimate).
// Anchors (TrainAnchors; the bench builds nothing): LOOM_LLMC=<build-llmc.sh run folder> runs llm.c's
// train_gpt2_bench and LOOM_PEERS=<peers/run.sh> TorchSharp-cpu at the same B, T and threads right after
// each fp32 case without checkpointing; ratio = anchor s/step ÷ Loom s/step (higher is better).
// Profile: LOOM_TRAIN_PROFILE=1 runs the timed steps once more with OpProfiler on and prints seconds per
// step for each op and each category (GEMM, attention, elementwise, cross-entropy, embedding,
// optimizer); on one thread the clock is the thread's CPU time (exact, load-independent).
using System.Diagnostics;
using Loom.Bench.Anchors;
using Loom.Core.Diagnostics;
using Loom.Models.Gpt2;
using Loom.Core.Tensors;
using Loom.Training.Optimizers;
using Loom.Training.Precision;

namespace Loom.Bench.Suites;

internal static class TrainSuite
{
    // KV-cache decoding: tokens/s generating 64 tokens after a 64-token prompt, one sequence.
    private static void RunDecode(BenchContext ctx, Gpt2Config config)
    {
        foreach (int threads in ctx.Threads)
        {
            string name = $"gpt2-124M decode kv-cache threads={threads}";
            if (!ctx.Selected(name)) continue;
            using var model = new Gpt2Model(config, ctx.Pool(threads));
            model.InitializeWeights(1);
            using var cache = model.CreateCache(128);
            var rng = new Random(2);
            for (int i = 0; i < 64; i++) model.DecodeNext(cache, rng.Next(config.VocabSize));
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 64; i++) model.DecodeNext(cache, rng.Next(config.VocabSize));
            double tps = 64 / sw.Elapsed.TotalSeconds;
            ctx.Rows.Add(new BenchRow(name, "tokens_per_s", Math.Round(tps, 1), "tokens/s"));
            Console.WriteLine($"{name,-40} {tps,7:F1} tokens/s ({1000 / tps:F1} ms/token, weights {model.Parameters.Count * 4 / 1e6:F0} MB read per token)");
        }
    }

    // Each op's seconds per step over `steps` profiled steps, then the shares per category.
    private static void Profile(BenchContext ctx, string name, int threads, int steps, Action step)
    {
        OpProfiler.Clock = threads == 1 ? ProfilerClock.ThreadCpu : ProfilerClock.Wall;
        OpProfiler.Reset();
        OpProfiler.Enabled = true;
        double start = ctx.Now(threads);
        for (int s = 0; s < steps; s++) step();
        double total = (ctx.Now(threads) - start) / steps;
        OpProfiler.Enabled = false;
        var ops = OpProfiler.Snapshot();
        string clock = threads == 1 ? "thread CPU time" : "wall time";
        Console.WriteLine($"  profile of {name} ({clock}, {steps} steps; the step took {total:F3} s on the suite's clock):");
        foreach (var op in ops)
            Console.WriteLine($"    {op.Category,-14} {op.Name,-28} {op.Seconds / steps * 1e3,9:F1} ms/step  {op.Calls / steps,4} calls  {op.Seconds / steps / total,6:P1}");
        double counted = 0;
        foreach (var g in ops.GroupBy(o => o.Category).OrderByDescending(g => g.Sum(o => o.Seconds)))
        {
            double sec = g.Sum(o => o.Seconds) / steps;
            counted += sec;
            ctx.Rows.Add(new BenchRow($"{name} profile {g.Key}", "s_per_step", Math.Round(sec, 4), "s"));
            ctx.Rows.Add(new BenchRow($"{name} profile {g.Key}", "share", Math.Round(sec / total, 4), "fraction"));
            Console.WriteLine($"  {g.Key,-16} {sec * 1e3,9:F1} ms/step  {sec / total,6:P1}");
        }
        Console.WriteLine($"  {"(not in an op)",-16} {(total - counted) * 1e3,9:F1} ms/step  {(total - counted) / total,6:P1}");
        ctx.Rows.Add(new BenchRow($"{name} profile other", "s_per_step", Math.Round(total - counted, 4), "s"));
    }

    // llm.c and TorchSharp at the same (B, T, threads), right after Loom's case, on the same clock.
    private static void RunAnchors(BenchContext ctx, string name, int b, int t, int threads, int steps, double loomSeconds)
    {
        var anchors = new List<AnchorStep>();
        if (TrainAnchors.LlmcDir is { } dir) anchors.Add(TrainAnchors.RunLlmc(dir, b, t, threads, steps, ctx.CpuTime));
        if (TrainAnchors.Peers is { } peers) anchors.Add(TrainAnchors.RunTorchSharp(peers, b, t, threads, steps, ctx.CpuTime));
        foreach (var a in anchors)
        {
            if (a.Error is { } e)
            {
                Console.WriteLine($"  anchor {a.Name}: not measured ({e})");
                continue;
            }
            double ratio = a.SecondsPerStep / loomSeconds;
            ctx.Rows.Add(new BenchRow(name, "s_per_step", Math.Round(loomSeconds, 3), "s")
            {
                Anchor = Math.Round(a.SecondsPerStep, 3), AnchorName = $"{a.Name} ({a.Clock})", Ratio = Math.Round(ratio, 3),
            });
            Console.WriteLine($"  anchor {a.Name,-22} {a.SecondsPerStep,7:F3} s/step ({a.Clock})  Loom ×{ratio:F2} faster");
        }
    }

    // As TrainingStep: zeroing deferred to the first write of each gradient (LOOM_TRAIN_EAGER_ZERO=1: the
    // eager 0.5 GB pass, for comparison).
    private static readonly bool EagerZero = Environment.GetEnvironmentVariable("LOOM_TRAIN_EAGER_ZERO") == "1";

    private static void ZeroGradients(Loom.Models.Parameters.ParameterSet p, Loom.Core.Threading.WorkerPool pool)
    {
        if (EagerZero) p.ZeroGradients(pool);
        else p.ZeroGradientsOnFirstWrite(pool);
    }

    public static void Run(BenchContext ctx)
    {
        // LOOM_TRAIN_FULL_ATTENTION=1: attention's full T×T products instead of skipping the causal upper blocks (to compare).
        if (Environment.GetEnvironmentVariable("LOOM_TRAIN_FULL_ATTENTION") == "1") Loom.Core.Kernels.Attention.CausalBlockSkipping = false;
        // LOOM_TRAIN_BATCHED_ATTENTION=1: attention's passes over all heads at once instead of head by head (the same bits; to compare).
        if (Environment.GetEnvironmentVariable("LOOM_TRAIN_BATCHED_ATTENTION") == "1") Loom.Core.Kernels.Attention.PerHeadPasses = false;
        int widest = Loom.Core.Diagnostics.FmaPeak.WidestWidth;
        double PeakGflopsPerCore = widest == 0 ? double.NaN
            : Loom.Core.Diagnostics.FmaPeak.Measure(widest, 1.0, ctx.Pool(1)).GflopsPerSecond;
        Console.WriteLine(widest == 0 ? "MFU: no hardware FMA, not reported"
            : $"MFU against the measured {widest}-bit FMA peak: {PeakGflopsPerCore:F1} GFLOP/s per core; GEMM kernel {Loom.Core.Kernels.Gemm.SelectedPath}");
        ctx.Rows.Add(new BenchRow($"fma peak {widest}-bit threads=1", "gflops", Math.Round(PeakGflopsPerCore, 1), "GFLOP/s"));
        int steps = ctx.Steps ?? 5;
        var config = new Gpt2Config();
        RunDecode(ctx, config);
        var cases = new[]
        {
            (4, 64, false, TrainingPrecision.Fp32), (4, 64, false, TrainingPrecision.Bf16), (4, 64, false, TrainingPrecision.Fp16),
            (8, 256, false, TrainingPrecision.Fp32), (8, 256, true, TrainingPrecision.Fp32), (8, 256, false, TrainingPrecision.Bf16),
        };
        foreach (var (b, t, ckpt, precision) in cases)
        {
            foreach (int threads in ctx.Threads)
            {
                string name = $"gpt2-124M B={b} T={t} threads={threads} {precision.ToString().ToLowerInvariant()}" + (ckpt ? " ckpt" : "");
                if (!ctx.Selected(name)) continue;
                var pool = ctx.Pool(threads);
                using var model = new Gpt2Model(config, pool) { ActivationCheckpointing = ckpt };
                model.InitializeWeights(1);
                using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions(), pool);
                // Emulated 16-bit weights and gradients with fp32 masters (see MixedPrecision): the
                // rows show what that costs on a CPU without bf16/fp16 arithmetic.
                using var mp = new MixedPrecision(model.Parameters, precision);
                var rng = new Random(1);
                var ids = Enumerable.Range(0, b * t).Select(_ => rng.Next(config.VocabSize)).ToArray();
                var targets = Enumerable.Range(0, b * t).Select(_ => rng.Next(config.VocabSize)).ToArray();
                void Step()
                {
                    mp.BeginStep();
                    model.Forward(ids, targets, b, t);
                    using (OpProfiler.Op("optimizer", "zero gradients")) ZeroGradients(model.Parameters, pool);
                    model.Backward(mp.LossScale);
                    if (!mp.EndStep()) return;
                    float norm;
                    using (OpProfiler.Op("optimizer", "clip: global norm")) norm = GradientClipping.GlobalNorm(model.Parameters, pool);
                    using (OpProfiler.Op("optimizer", "adamw (+ clip scale)")) opt.Update(6e-4f, GradientClipping.Coefficient(norm, 1f));
                }
                Step(); // warm-up and plan
                var times = new List<double>();
                for (int s = 0; s < steps; s++)
                {
                    double start = ctx.Now(threads);
                    Step();
                    times.Add(ctx.Now(threads) - start);
                }
                times.Sort();
                double sec = times[times.Count / 2];
                long n = model.Parameters.Count;
                double flops = 6.0 * n * b * t + 6.0 * config.Layers * b * t * t * config.Embedding; // + attention (fwd+bwd)
                double mfu = flops / sec / (PeakGflopsPerCore * 1e9 * threads);
                long peak = Environment.WorkingSet;
                ctx.Rows.Add(new BenchRow(name, "s_per_step", Math.Round(sec, 3), "s"));
                ctx.Rows.Add(new BenchRow(name, "tokens_per_s", Math.Round(b * t / sec, 1), "tokens/s"));
                ctx.Rows.Add(new BenchRow(name, "mfu", Math.Round(mfu, 3), "fraction"));
                ctx.Rows.Add(new BenchRow(name, "peak_bytes", peak, "bytes"));
                ctx.Rows.Add(new BenchRow(name, "activation_bytes", model.ActivationBytes, "bytes"));
                long native = NativeBuffer.LiveBytes;   // parameters, gradients, moments, masters, activations
                ctx.Rows.Add(new BenchRow(name, "native_bytes", native, "bytes"));
                Console.WriteLine($"{name,-44} {sec,7:F3} s/step  {b * t / sec,8:F1} tokens/s  MFU {mfu:P1}  {flops / 1e9:F0} GFLOP/step  working set {peak / 1e9:F2} GB  native {native / 1e6:F0} MB  activations {model.ActivationBytes / 1e6:F0} MB  ({(ctx.CpuTime ? "CPU time" : "wall")})");
                if (Environment.GetEnvironmentVariable("LOOM_TRAIN_PROFILE") == "1") Profile(ctx, name, threads, steps, Step);
                if (precision == TrainingPrecision.Fp32 && !ckpt) RunAnchors(ctx, name, b, t, threads, steps, sec);
            }
        }
    }
}
