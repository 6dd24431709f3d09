// Tensor parallelism (Megatron-LM §3) against the single-rank model: 2 ranks on threads
// (InProcessCommunicator), the shards sliced from the whole model's weights; logits, loss and every
// gradient (shards all-gathered back into whole tensors) equal to 1e-5, then a few AdamW steps'
// losses. Counts the all-reduces: two per block in the forward, two in the backward.
using Loom.Core.Threading;
using Loom.Distributed.Communication;
using Loom.Distributed.Tensor;
using Loom.Models.Gpt2;
using Loom.Models.Parallel;
using Loom.Training.Optimizers;

namespace Loom.Distributed.Tests.Tensor;

public sealed class TensorParallelGpt2Tests
{
    private const int B = 2, T = 8;

    [Fact]
    public void TwoRanksGiveTheSingleRankLogitsLossAndEveryGradient()
    {
        using var whole = ParallelTestModels.Whole();
        var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 5);
        float loss = whole.Forward(ids, targets, B, T);
        var logits = whole.Logits.ToArray();
        whole.Parameters.EnsureGradients();
        whole.Parameters.ZeroGradients();
        whole.Backward();
        var split = TensorParallelModels.SplitOf(whole.Config);

        var ranks = InProcessCommunicator.Run(2, c =>
        {
            var counting = new MeteredCommunicator(c);
            using var pool = new WorkerPool(1);
            using var shard = TensorParallelModels.Create(whole.Config, counting, pool: pool);
            TensorParallelModels.LoadShard(whole.Parameters, shard.Parameters, split, c.Rank, c.Size);
            float l = shard.Forward(ids, targets, B, T);
            int forwardReduces = counting.AllReduceCalls;
            var lg = shard.Logits.ToArray();
            shard.Parameters.EnsureGradients();
            shard.Parameters.ZeroGradients();
            shard.Backward();
            int backwardReduces = counting.AllReduceCalls - forwardReduces;
            var grads = whole.Parameters.Specs.Select(s =>
            {
                var g = new float[s.Count];
                TensorParallelModels.GatherGradient(shard.Parameters, s.Name, s.Shape, split, c, g);
                return g;
            }).ToArray();
            // The shard really holds half of each split tensor.
            var attn = shard.Parameters.Specs.First(s => s.Name == "h.0.attn.c_attn.weight");
            return (l, lg, grads, forwardReduces, backwardReduces, attn.Shape);
        });

        foreach (var r in ranks)
        {
            Assert.Equal(new long[] { 32, 48 }, r.Shape);   // (C, 3C/2)
            Assert.Equal(2 * ParallelTestModels.Config.Layers, r.forwardReduces);
            Assert.Equal(2 * ParallelTestModels.Config.Layers, r.backwardReduces);
            Assert.True(Math.Abs(loss - r.l) <= 1e-5 * Math.Abs(loss), $"loss {loss} vs {r.l}");
            ParallelTestModels.Close(logits, r.lg, 1e-5, "logits");
            for (int i = 0; i < whole.Parameters.Specs.Count; i++)
                ParallelTestModels.Close(whole.Parameters.Gradient(i), r.grads[i], 1e-5, "gradient of " + whole.Parameters.Specs[i].Name);
        }
    }

    [Fact]
    public void TwoRanksFollowTheSingleRankLossCurveUnderAdamW()
    {
        const int steps = 5;
        var options = new AdamWOptions { LearningRate = 1e-2f };
        var expected = new float[steps];
        using (var whole = ParallelTestModels.Whole())
        using (var opt = new AdamWOptimizer(whole.Parameters, options))
            for (int s = 0; s < steps; s++)
            {
                var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 10 + s % 2);   // two batches alternating: the loss falls
                whole.Parameters.EnsureGradients();
                whole.Parameters.ZeroGradients();
                expected[s] = whole.Forward(ids, targets, B, T);
                whole.Backward();
                opt.Update(options.LearningRate);
            }

        using var start = ParallelTestModels.Whole();
        var split = TensorParallelModels.SplitOf(start.Config);
        var curves = InProcessCommunicator.Run(2, c =>
        {
            using var pool = new WorkerPool(1);
            using var shard = TensorParallelModels.Create(start.Config, c, pool: pool);
            TensorParallelModels.LoadShard(start.Parameters, shard.Parameters, split, c.Rank, c.Size);
            using var opt = new AdamWOptimizer(shard.Parameters, options);   // AdamW is element-wise: sharded moments are the whole's slices
            var curve = new float[steps];
            for (int s = 0; s < steps; s++)
            {
                var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 10 + s % 2);   // two batches alternating: the loss falls
                shard.Parameters.EnsureGradients();
                shard.Parameters.ZeroGradients();
                curve[s] = shard.Forward(ids, targets, B, T);
                shard.Backward();
                opt.Update(options.LearningRate);
            }
            return curve;
        });
        foreach (var curve in curves)
            for (int s = 0; s < steps; s++)
                Assert.True(Math.Abs(expected[s] - curve[s]) <= 1e-5 * Math.Abs(expected[s]), $"step {s}: {expected[s]} vs {curve[s]}");
        Assert.True(expected[^1] < expected[0], $"the loss should fall: {string.Join(", ", expected)}");
    }

    [Fact]
    public void TheGlobalGradientNormCountsReplicatedTensorsOnce()
    {
        using var whole = ParallelTestModels.Whole();
        var (ids, targets) = ParallelTestModels.Batch(B, T, seed: 7);
        whole.Parameters.EnsureGradients();
        whole.Parameters.ZeroGradients();
        whole.Forward(ids, targets, B, T);
        whole.Backward();
        double expected = Math.Sqrt(whole.Parameters.AllGradients.ToArray().Sum(g => (double)g * g));
        var split = TensorParallelModels.SplitOf(whole.Config);
        var norms = InProcessCommunicator.Run(2, c =>
        {
            using var pool = new WorkerPool(1);
            using var shard = TensorParallelModels.Create(whole.Config, c, pool: pool);
            TensorParallelModels.LoadShard(whole.Parameters, shard.Parameters, split, c.Rank, c.Size);
            shard.Parameters.EnsureGradients();
            shard.Parameters.ZeroGradients();
            shard.Forward(ids, targets, B, T);
            shard.Backward();
            return TensorParallelModels.GradientNorm(shard.Parameters, split, c);
        });
        foreach (var n in norms) Assert.Equal(expected, n, 1e-5 * expected);
    }

    [Fact]
    public void ASizeThatDoesNotDivideTheHeadsIsRefusedNamingTheField()
    {
        var e = Assert.Throws<InvalidOperationException>(() => InProcessCommunicator.Run(3, c =>
        {
            using var shard = TensorParallelModels.Create(ParallelTestModels.Config, c);
        }));
        Assert.Contains("n_head = 4", e.Message);
    }

    [Fact]
    public void SliceAndPlaceAreInverseAndCutFusedQkvByHeads()
    {
        // (in 2, out 3·4) with groups q|k|v of 4 columns each: rank 1 of 2 gets columns 2-3, 6-7, 10-11.
        long[] shape = [2, 12];
        var full = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        var split = new TensorSplit(1, 3);
        Assert.Equal(new long[] { 2, 6 }, TensorShards.ShardShape(shape, split, 2));
        var shard = new float[12];
        TensorShards.Slice(full, shape, split, 1, 2, shard);
        Assert.Equal(new float[] { 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23 }, shard);
        var back = new float[24];
        for (int r = 0; r < 2; r++)
        {
            TensorShards.Slice(full, shape, split, r, 2, shard);
            TensorShards.Place(shard, shape, split, r, 2, back);
        }
        Assert.Equal(full, back);
    }
}
