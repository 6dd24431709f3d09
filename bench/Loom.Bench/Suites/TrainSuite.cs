// The `train` suite: GPT-2 124M training steps (forward, backward, AdamW) on random tokens.
// Rows: `gpt2-124M B=4 T=64 threads=2 fp32` with s_per_step, tokens_per_s, mfu and peak_bytes.
// MFU is against the FMA peak of the widest vector width this CPU has (AVX-512 here), measured
// at the start of the run on one thread (FmaPeak, best of repetitions) and multiplied by the
// thread count; the run prints which width and rate it used.
// FLOPs per step: 6·N·tokens for the matmuls plus attention (llm.c's estimate).
using System.Diagnostics;
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

    public static void Run(BenchContext ctx)
    {
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
                    model.Parameters.ZeroGradients();
                    model.Backward(mp.LossScale);
                    if (!mp.EndStep()) return;
                    GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
                    opt.Update(6e-4f);
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
                Console.WriteLine($"{name,-44} {sec,7:F3} s/step  {b * t / sec,8:F1} tokens/s  MFU {mfu:P1}  {flops / 1e9:F0} GFLOP/step  working set {peak / 1e9:F2} GB  native {native / 1e6:F0} MB  activations {model.ActivationBytes / 1e6:F0} MB");
            }
        }
    }
}
