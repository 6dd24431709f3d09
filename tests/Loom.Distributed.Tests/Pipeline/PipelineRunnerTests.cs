// Pipeline parallelism (GPipe; 1F1B) against the single-rank model: 2 and 3 stages on threads
// (InProcessCommunicator), each stage's weights copied from the whole model; every gradient after
// the first step and the loss curve over several AdamW steps equal to 1e-5, with both schedules.
using Loom.Core.Threading;
using Loom.Distributed.Communication;
using Loom.Distributed.Pipeline;
using Loom.Models.Gpt2;
using Loom.Models.Parallel;
using Loom.Training.Optimizers;

namespace Loom.Distributed.Tests.Pipeline;

public sealed class PipelineRunnerTests
{
    private const int B = 4, T = 8, Steps = 4;
    private static readonly AdamWOptions Adam = new() { LearningRate = 1e-2f };

    private static (float[] Losses, Dictionary<string, float[]> FirstGradients) SingleRank()
    {
        using var whole = ParallelTestModels.Whole();
        using var opt = new AdamWOptimizer(whole.Parameters, Adam);
        var losses = new float[Steps];
        Dictionary<string, float[]> grads = [];
        for (int s = 0; s < Steps; s++)
        {
            var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 20 + s % 2);
            if (s == 1) targets[3] = -100;   // an ignored target: micro-batches weigh by their counted tokens
            whole.Parameters.EnsureGradients();
            whole.Parameters.ZeroGradients();
            losses[s] = whole.Forward(ids, targets, B, T);
            whole.Backward();
            if (s == 0) grads = whole.Parameters.Specs.Select((p, i) => (p.Name, whole.Parameters.Gradient(i).ToArray())).ToDictionary();
            opt.Update(Adam.LearningRate);
        }
        return (losses, grads);
    }

    [Theory]
    [InlineData(2, PipelineSchedule.GPipe, 4)]
    [InlineData(2, PipelineSchedule.OneForwardOneBackward, 4)]
    [InlineData(3, PipelineSchedule.GPipe, 2)]
    [InlineData(3, PipelineSchedule.OneForwardOneBackward, 4)]
    public void StagesGiveTheSingleRankGradientsAndLossCurve(int stages, PipelineSchedule schedule, int microBatches)
    {
        var (expected, expectedGrads) = SingleRank();
        using var start = ParallelTestModels.Whole();
        var options = new PipelineOptions { Schedule = schedule, MicroBatches = microBatches };
        var ranks = InProcessCommunicator.Run(stages, c =>
        {
            using var pool = new WorkerPool(1);
            using var stage = PipelineModels.Create(start.Config, c, pool: pool);
            PipelineModels.LoadStage(start.Parameters, stage.Parameters);
            using var opt = new AdamWOptimizer(stage.Parameters, Adam);
            var runner = new PipelineRunner(stage, c, options);
            var losses = new float[Steps];
            Dictionary<string, float[]> grads = [];
            int inFlight = 0;
            for (int s = 0; s < Steps; s++)
            {
                var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 20 + s % 2);
                if (s == 1) targets[3] = -100;
                stage.Parameters.EnsureGradients();
                stage.Parameters.ZeroGradients();
                losses[s] = runner.ForwardBackward(ids, targets, B, T);
                if (s == 0) grads = stage.Parameters.Specs.Select((p, i) => (p.Name, stage.Parameters.Gradient(i).ToArray())).ToDictionary();
                inFlight = runner.MaxInFlight;
                opt.Update(Adam.LearningRate);
            }
            return (losses, grads, inFlight, ((IPipelineStageModel)stage).Stage);
        });

        var held = new HashSet<string>();
        for (int r = 0; r < stages; r++)
        {
            var (losses, grads, inFlight, stage) = ranks[r];
            for (int s = 0; s < Steps; s++)
                Assert.True(Math.Abs(expected[s] - losses[s]) <= 1e-5 * Math.Abs(expected[s]), $"rank {r} step {s}: {expected[s]} vs {losses[s]}");
            foreach (var (name, g) in grads)
            {
                ParallelTestModels.Close(expectedGrads[name], g, 1e-5, $"rank {r}: gradient of {name}");
                held.Add(name);
            }
            // GPipe holds every micro-batch's activations; 1F1B at most the stages from here to the last.
            Assert.Equal(schedule == PipelineSchedule.GPipe ? microBatches : Math.Min(microBatches, stages - r), inFlight);
            Assert.Equal(PipelineStage.Split(ParallelTestModels.Config.Layers, stages)[r], stage);
        }
        Assert.Equal(expectedGrads.Keys.Order(), held.Order());   // the stages hold the whole model between them
        Assert.True(expected[^1] < expected[0]);
    }

    [Fact]
    public void EachStageSendsOneHiddenStateForwardAndOneGradientBackPerMicroBatch()
    {
        using var start = ParallelTestModels.Whole();
        var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 3);
        var sent = InProcessCommunicator.Run(2, c =>
        {
            using var pool = new WorkerPool(1);
            using var stage = PipelineModels.Create(start.Config, c, pool: pool);
            PipelineModels.LoadStage(start.Parameters, stage.Parameters);
            var runner = new PipelineRunner(stage, c, new PipelineOptions { MicroBatches = 2 });
            runner.ForwardBackward(ids, targets, B, T);
            return runner.SentFloats;
        });
        long C = ParallelTestModels.Config.Embedding, V = ParallelTestModels.Config.VocabSize;
        // 2 micro-batches of (B/2)·T rows of C floats, one way each, plus the tied wte gradient (V·C) both ways.
        Assert.Equal(2 * (B / 2) * T * C + V * C, sent[0]);
        Assert.Equal(2 * (B / 2) * T * C + V * C, sent[1]);
    }

    [Fact]
    public void MicroBatchesThatDoNotDivideTheBatchAreRefusedNamingTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => new PipelineOptions { MicroBatches = 3 }.Validate(4));
        Assert.Contains("distributed.micro_batches = 3", e.Message);
        Assert.Equal(PipelineSchedule.OneForwardOneBackward, PipelineOptions.ParseSchedule("1F1B"));
        Assert.Throws<ArgumentException>(() => PipelineOptions.ParseSchedule("interleaved"));
    }

    [Fact]
    public void StagesSplitTheLayersEvenly()
    {
        Assert.Equal(new[] { (0, 2), (2, 1), (3, 1) }, PipelineStage.Split(4, 3).Select(s => (s.FirstLayer, s.LayerCount)));
        Assert.Throws<ArgumentException>(() => PipelineStage.Split(2, 3));
    }
}
