// The `parallelism` suite: one GPT-2 training step (forward, backward, AdamW) on 1 rank and on 2
// ranks with tensor parallelism (Megatron-LM) and pipeline parallelism (GPipe, 1F1B), ranks as
// threads of this process (InProcessCommunicator), one compute thread per rank as under
// `mpirun -np 2` with LOOM_THREADS=1. Rows per case: s_per_step, tokens_per_s, and the floats each
// rank all-reduces / sends per step (counted by MeteredCommunicator), with the formula they follow:
//   TP: 4·L all-reduces of B·T·C floats (2 per block forward after the row-parallel projections,
//       2 backward in front of the column-parallel ones);
//   PP: per stage boundary B·T·C floats forward and B·T·C back, plus the tied wte gradient V·C each way.
// Each case checks its first loss against the 1-rank step's before timing (equal to 1e-5).
// --steps N (default 3) timed steps after one warm-up step.
using System.Diagnostics;
using Loom.Core.Threading;
using Loom.Distributed.Communication;
using Loom.Distributed.Pipeline;
using Loom.Distributed.Tensor;
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Training.Optimizers;

namespace Loom.Bench.Suites;

internal static class ParallelismSuite
{
    private const int B = 8, T = 128;
    private static readonly Gpt2Config Config = new() { VocabSize = 8192, MaxPositions = T, Embedding = 384, Layers = 4, Heads = 6 };

    public static void Run(BenchContext ctx)
    {
        int steps = ctx.Steps ?? 3;
        var rng = new Random(1);
        var ids = Enumerable.Range(0, B * T).Select(_ => rng.Next(Config.VocabSize)).ToArray();
        var targets = Enumerable.Range(0, B * T).Select(_ => rng.Next(Config.VocabSize)).ToArray();
        using var whole = new Gpt2Model(Config);
        whole.InitializeWeights(1);
        Console.WriteLine($"gpt2 {Config.Layers} layers × {Config.Embedding}, vocab {Config.VocabSize}: {whole.Parameters.Count / 1e6:F1}M parameters; B={B} T={T} ({B * T} tokens per step)");

        float reference = float.NaN;
        double single = double.NaN;
        foreach (int threads in new[] { 1, 2 })
        {
            string name = $"1 rank threads={threads}";
            if (!ctx.Selected(name) && !(threads == 1 && ctx.Filter is not null)) continue;
            using var pool = new WorkerPool(threads);
            using var model = new Gpt2Model(Config, pool);
            whole.Parameters.AllValues.CopyTo(model.Parameters.AllValues);
            using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions(), pool);
            float Step()
            {
                model.Parameters.EnsureGradients();
                model.Parameters.ZeroGradients();
                float l = model.Forward(ids, targets, B, T);
                model.Backward();
                opt.Update(6e-4f);
                return l;
            }
            float first = Step();
            if (threads == 1) reference = first;
            double s = Median(steps, () => Step());
            if (threads == 1) single = s;
            Report(ctx, name, s, single, 0, 0);
        }

        Case(ctx, "tp=2", steps, single, c =>
        {
            using var pool = new WorkerPool(1);
            var metered = new MeteredCommunicator(c);
            var split = TensorParallelModels.SplitOf(Config);
            using var shard = TensorParallelModels.Create(Config, metered, pool: pool);
            TensorParallelModels.LoadShard(whole.Parameters, shard.Parameters, split, c.Rank, c.Size);
            using var opt = new AdamWOptimizer(shard.Parameters, new AdamWOptions(), pool);
            return Measure(steps, metered, reference, () =>
            {
                shard.Parameters.EnsureGradients();
                shard.Parameters.ZeroGradients();
                float l = shard.Forward(ids, targets, B, T);
                shard.Backward();
                opt.Update(6e-4f);
                return l;
            });
        });

        foreach (var schedule in new[] { PipelineSchedule.GPipe, PipelineSchedule.OneForwardOneBackward })
            Case(ctx, $"pp=2 {(schedule == PipelineSchedule.GPipe ? "gpipe" : "1f1b")} micro_batches=4", steps, single, c =>
            {
                using var pool = new WorkerPool(1);
                var metered = new MeteredCommunicator(c);
                using var stage = PipelineModels.Create(Config, metered, pool: pool);
                PipelineModels.LoadStage(whole.Parameters, stage.Parameters);
                using var opt = new AdamWOptimizer(stage.Parameters, new AdamWOptions(), pool);
                var runner = new PipelineRunner(stage, metered, new PipelineOptions { Schedule = schedule, MicroBatches = 4 });
                return Measure(steps, metered, reference, () =>
                {
                    stage.Parameters.EnsureGradients();
                    stage.Parameters.ZeroGradients();
                    float l = runner.ForwardBackward(ids, targets, B, T);
                    opt.Update(6e-4f);
                    return l;
                });
            });
        long BTC = (long)B * T * Config.Embedding;
        Console.WriteLine($"expected per rank per step: tp=2 all-reduces 4·L·B·T·C = {4L * Config.Layers * BTC / 1e6:F2}M floats; pp=2 sends B·T·C + V·C = {(BTC + (long)Config.VocabSize * Config.Embedding) / 1e6:F2}M floats");
    }

    private static (double Seconds, long Reduced, long Sent) Measure(int steps, MeteredCommunicator metered, float reference, Func<float> step)
    {
        float first = step();   // warm-up and plans; the same first step as the 1-rank case
        if (!float.IsNaN(reference) && Math.Abs(first - reference) > 1e-5 * Math.Abs(reference))
            throw new InvalidOperationException($"rank {metered.Rank}: first loss {first} differs from the 1-rank {reference}");
        metered.Reset();
        double s = Median(steps, () => step());
        return (s, metered.AllReduceFloats / steps, metered.SentFloats / steps);
    }

    private static void Case(BenchContext ctx, string name, int steps, double single, Func<ICommunicator, (double, long, long)> rank)
    {
        if (!ctx.Selected(name)) return;
        var results = InProcessCommunicator.Run(2, rank);
        // The step is as slow as the slowest rank; traffic is per rank (the larger of the two).
        Report(ctx, name, results.Max(r => r.Item1), single, results.Max(r => r.Item2), results.Max(r => r.Item3));
    }

    private static double Median(int steps, Action step)
    {
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            step();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static void Report(BenchContext ctx, string name, double seconds, double single, long reduced, long sent)
    {
        ctx.Rows.Add(new BenchRow(name, "s_per_step", Math.Round(seconds, 4), "s") { Anchor = double.IsNaN(single) ? null : Math.Round(single, 4), AnchorName = "1 rank threads=1", Ratio = double.IsNaN(single) ? null : Math.Round(single / seconds, 3) });
        ctx.Rows.Add(new BenchRow(name, "tokens_per_s", Math.Round(B * T / seconds, 1), "tokens/s"));
        ctx.Rows.Add(new BenchRow(name, "allreduce_floats_per_rank", reduced, "floats/step"));
        ctx.Rows.Add(new BenchRow(name, "p2p_floats_per_rank", sent, "floats/step"));
        Console.WriteLine($"{name,-34} {seconds * 1000,8:F0} ms/step {B * T / seconds,8:F0} tokens/s  speed-up {single / seconds,5:F2}×  all-reduce {reduced / 1e6,6:F2}M floats  sent {sent / 1e6,6:F2}M floats per rank");
    }
}
