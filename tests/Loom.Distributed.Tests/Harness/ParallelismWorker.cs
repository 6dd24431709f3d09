// The tensor- and pipeline-parallel programs the mpirun tests start on each rank: every rank builds
// the small single-rank GPT-2 reference itself (cheap), runs its shard or stage through the real MPI
// binding, and checks its results against the reference; a mismatch throws, which DistributedRun.Guard
// turns into an abort naming the rank, and a nonzero exit code.
using Loom.Distributed.Communication;
using Loom.Distributed.Pipeline;
using Loom.Distributed.Tensor;
using Loom.Training.Optimizers;

namespace Loom.Distributed.Tests.Harness;

internal static class ParallelismWorker
{
    private const int B = 4, T = 8, Steps = 3;
    private static readonly AdamWOptions Adam = new() { LearningRate = 1e-2f };

    public static int Run(string[] args)
    {
        using var comm = MpiCommunicator.Create();
        return DistributedRun.Guard(comm, () => args switch
        {
            ["tensor-parallel"] => TensorParallel(comm),
            ["pipeline-parallel", var schedule, var micro] => PipelineParallel(comm, PipelineOptions.ParseSchedule(schedule), int.Parse(micro)),
            _ => throw new ArgumentException("usage: worker tensor-parallel | pipeline-parallel gpipe|1f1b MICRO_BATCHES"),
        });
    }

    // The single-rank loss curve and the first step's gradients, by name.
    private static (float[] Losses, Dictionary<string, float[]> Gradients) Reference()
    {
        using var whole = ParallelTestModels.Whole();
        using var opt = new AdamWOptimizer(whole.Parameters, Adam);
        var losses = new float[Steps];
        Dictionary<string, float[]> grads = [];
        for (int s = 0; s < Steps; s++)
        {
            var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 30 + s);
            whole.Parameters.EnsureGradients();
            whole.Parameters.ZeroGradients();
            losses[s] = whole.Forward(ids, targets, B, T);
            whole.Backward();
            if (s == 0) grads = whole.Parameters.Specs.Select((p, i) => (p.Name, whole.Parameters.Gradient(i).ToArray())).ToDictionary();
            opt.Update(Adam.LearningRate);
        }
        return (losses, grads);
    }

    private static void Check(float[] want, float[] got, string what)
    {
        for (int s = 0; s < want.Length; s++)
            if (!(Math.Abs(want[s] - got[s]) <= 1e-5 * Math.Abs(want[s])))
                throw new InvalidOperationException($"{what} step {s}: single rank {want[s]}, parallel {got[s]}");
    }

    private static void CheckGradient(float[] want, ReadOnlySpan<float> got, string name)
    {
        double scale = want.Max(Math.Abs), worst = 0;
        for (int i = 0; i < want.Length; i++) worst = Math.Max(worst, Math.Abs(want[i] - got[i]));
        if (worst > 1e-5 * Math.Max(scale, 1e-6)) throw new InvalidOperationException($"gradient of {name}: max |Δ| {worst:g4}, scale {scale:g4}");
    }

    private static int TensorParallel(ICommunicator comm)
    {
        var (want, wantGrads) = Reference();
        using var start = ParallelTestModels.Whole();
        var split = TensorParallelModels.SplitOf(start.Config);
        using var shard = TensorParallelModels.Create(start.Config, comm);
        TensorParallelModels.LoadShard(start.Parameters, shard.Parameters, split, comm.Rank, comm.Size);
        using var opt = new AdamWOptimizer(shard.Parameters, Adam);
        var got = new float[Steps];
        for (int s = 0; s < Steps; s++)
        {
            var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 30 + s);
            shard.Parameters.EnsureGradients();
            shard.Parameters.ZeroGradients();
            got[s] = shard.Forward(ids, targets, B, T);
            shard.Backward();
            if (s == 0)
                foreach (var spec in start.Parameters.Specs)
                {
                    var whole = new float[spec.Count];
                    TensorParallelModels.GatherGradient(shard.Parameters, spec.Name, spec.Shape, split, comm, whole);
                    CheckGradient(wantGrads[spec.Name], whole, spec.Name);
                }
            opt.Update(Adam.LearningRate);
        }
        Check(want, got, "tensor-parallel loss");
        Console.WriteLine($"rank {comm.Rank}: tensor-parallel ok, losses {string.Join(" ", got)}");
        return 0;
    }

    private static int PipelineParallel(ICommunicator comm, PipelineSchedule schedule, int microBatches)
    {
        var (want, wantGrads) = Reference();
        using var start = ParallelTestModels.Whole();
        using var stage = PipelineModels.Create(start.Config, comm);
        PipelineModels.LoadStage(start.Parameters, stage.Parameters);
        using var opt = new AdamWOptimizer(stage.Parameters, Adam);
        var runner = new PipelineRunner(stage, comm, new PipelineOptions { Schedule = schedule, MicroBatches = microBatches });
        var got = new float[Steps];
        for (int s = 0; s < Steps; s++)
        {
            var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 30 + s);
            stage.Parameters.EnsureGradients();
            stage.Parameters.ZeroGradients();
            got[s] = runner.ForwardBackward(ids, targets, B, T);
            if (s == 0)
                for (int i = 0; i < stage.Parameters.Specs.Count; i++)
                    CheckGradient(wantGrads[stage.Parameters.Specs[i].Name], stage.Parameters.Gradient(i), stage.Parameters.Specs[i].Name);
            opt.Update(Adam.LearningRate);
        }
        Check(want, got, $"pipeline-parallel ({schedule}) loss");
        Console.WriteLine($"rank {comm.Rank}: pipeline-parallel {schedule} ok, losses {string.Join(" ", got)}");
        return 0;
    }
}
