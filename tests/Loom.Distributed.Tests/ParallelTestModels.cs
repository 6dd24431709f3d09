// The small GPT-2 the tensor- and pipeline-parallel tests compare against: Loom's single-rank
// Gpt2Model (itself checked against PyTorch in Loom.Models.Tests), seeded weights and batch.
using Loom.Models.Gpt2;

namespace Loom.Distributed.Tests;

internal static class ParallelTestModels
{
    // 4 heads and 4C = 128 MLP units split by 2 (and 4 layers by 2 or 3 stages).
    public static readonly Gpt2Config Config = new() { VocabSize = 61, MaxPositions = 16, Embedding = 32, Layers = 4, Heads = 4 };

    public static Gpt2Model Whole(int seed = 1)
    {
        var m = new Gpt2Model(Config);
        m.InitializeWeights(seed);
        // Nonzero biases and LayerNorm affines, so their sharding and gradients are exercised too.
        var rng = new Random(seed + 100);
        for (int i = 0; i < m.Parameters.Specs.Count; i++)
            if (m.Parameters.Specs[i].Shape.Length == 1)
                foreach (ref float v in m.Parameters.Value(i)) v += 0.05f * (float)(rng.NextDouble() - 0.5);
        return m;
    }

    /// <summary>A (B·T) batch of ids and next-token targets, seeded.</summary>
    public static (int[] Ids, int[] Targets) Batch(int batch, int time, int seed)
    {
        var rng = new Random(seed);
        var ids = new int[batch * time];
        var targets = new int[batch * time];
        for (int i = 0; i < ids.Length; i++) { ids[i] = rng.Next(Config.VocabSize); targets[i] = rng.Next(Config.VocabSize); }
        return (ids, targets);
    }

    /// <summary>max |a − b| ≤ tolerance · max(|b|), with the worst index in the message.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0, worst = 0; int at = -1;
        for (int i = 0; i < expected.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (d > worst) { worst = d; at = i; }
        }
        Assert.True(worst <= tolerance * Math.Max(scale, 1e-6),
            $"{what}: max |Δ| = {worst:g4} at [{at}] ({(at >= 0 ? expected[at] : 0)} vs {(at >= 0 ? actual[at] : 0)}), scale {scale:g4}, tolerance {tolerance}");
    }
}
