// The model-side seams of pipeline and tensor parallelism, without any communication: two GPT-2
// stages chained by hand (stage 0's output copied into stage 1's input, stage 1's input gradient
// back) give the whole model's loss and gradients; activation slots keep two micro-batches apart;
// a tensor-parallel shard holds 1/N of the heads and MLP units. Reference: the whole Gpt2Model.
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Models.Parallel;

namespace Loom.Models.Tests.Parallel;

public sealed class Gpt2StageSeamTests
{
    private static readonly Gpt2Config Config = new() { VocabSize = 37, MaxPositions = 8, Embedding = 16, Layers = 3, Heads = 2 };

    private static (int[] Ids, int[] Targets) Batch(int seed)
    {
        var rng = new Random(seed);
        return (Enumerable.Range(0, 2 * 6).Select(_ => rng.Next(37)).ToArray(), Enumerable.Range(0, 2 * 6).Select(_ => rng.Next(37)).ToArray());
    }

    private static Gpt2Model Stage(Gpt2Model whole, PipelineStage stage)
    {
        var m = new Gpt2Model(Config, ModelOptions.Default with { Stage = stage });
        for (int i = 0; i < m.Parameters.Specs.Count; i++)
            whole.Parameters.Value(whole.Parameters.IndexOf(m.Parameters.Specs[i].Name)).CopyTo(m.Parameters.Value(i));
        m.Parameters.EnsureGradients();
        m.Parameters.ZeroGradients();
        return m;
    }

    [Fact]
    public void TwoStagesChainedByHandAreTheWholeModel()
    {
        using var whole = new Gpt2Model(Config);
        whole.InitializeWeights(3);
        var (ids, targets) = Batch(1);
        whole.Parameters.EnsureGradients();
        whole.Parameters.ZeroGradients();
        float loss = whole.Forward(ids, targets, 2, 6);
        whole.Backward();

        var stages = PipelineStage.Split(3, 2);
        using var first = Stage(whole, stages[0]);
        using var last = Stage(whole, stages[1]);
        Assert.Equal(["wte.weight"], first.SharedAcrossStages);
        Assert.DoesNotContain(first.Parameters.Specs, s => s.Name.StartsWith("ln_f") || s.Name.StartsWith("h.2."));
        Assert.DoesNotContain(last.Parameters.Specs, s => s.Name == "wpe.weight" || s.Name.StartsWith("h.0.") || s.Name.StartsWith("h.1."));
        first.ForwardHidden(new TokenBatch(ids, 2, 6)).CopyTo(last.StageInput(2, 6));
        float staged = last.Forward(ids, targets, 2, 6);
        last.Backward();
        first.BackwardHidden(last.StageInputGradient);

        Assert.Equal(loss, staged, 1e-6f);
        void Same(string name, float[] got)
        {
            var want = whole.Parameters.Gradient(whole.Parameters.IndexOf(name)).ToArray();
            float scale = Math.Max(1e-3f, want.Max(Math.Abs));
            for (int j = 0; j < want.Length; j++) Assert.True(Math.Abs(want[j] - got[j]) <= 1e-5f * scale, $"{name}[{j}]: {want[j]} vs {got[j]}");
        }
        float[] Grad(Gpt2Model m, string name) => m.Parameters.Gradient(m.Parameters.IndexOf(name)).ToArray();
        foreach (var m in new[] { first, last })
            foreach (var spec in m.Parameters.Specs.Where(s => s.Name != "wte.weight")) Same(spec.Name, Grad(m, spec.Name));
        // The tied matrix: its embedding part on the first stage plus its head part on the last.
        Same("wte.weight", Grad(first, "wte.weight").Zip(Grad(last, "wte.weight"), (a, b) => a + b).ToArray());
    }

    [Fact]
    public void ActivationSlotsKeepTwoMicroBatchesApart()
    {
        using var whole = new Gpt2Model(Config);
        whole.InitializeWeights(4);
        var (idsA, targetsA) = Batch(2);
        var (idsB, targetsB) = Batch(3);
        // Reference: A's gradient alone, B's alone.
        whole.Parameters.EnsureGradients();
        whole.Parameters.ZeroGradients();
        whole.Forward(idsA, targetsA, 2, 6); whole.Backward();
        whole.Forward(idsB, targetsB, 2, 6); whole.Backward();
        var sequential = whole.Parameters.AllGradients.ToArray();
        // Both forwards first on slots 0 and 1, then both backwards: the same sum of gradients.
        using var slotted = Stage(whole, new PipelineStage(0, 3, 3));
        slotted.ActivationSlot = 0; slotted.Forward(idsA, targetsA, 2, 6);
        slotted.ActivationSlot = 1; slotted.Forward(idsB, targetsB, 2, 6);
        slotted.ActivationSlot = 0; slotted.Backward();
        slotted.ActivationSlot = 1; slotted.Backward();
        var got = slotted.Parameters.AllGradients.ToArray();
        double scale = sequential.Max(Math.Abs);
        for (int j = 0; j < got.Length; j++) Assert.True(Math.Abs(sequential[j] - got[j]) <= 1e-5 * scale, $"[{j}]: {sequential[j]} vs {got[j]}");
    }

    [Fact]
    public void ATensorParallelShardHoldsItsHeadsAndMlpUnits()
    {
        using var shard = new Gpt2Model(Config, ModelOptions.Default with { TensorParallel = new TensorParallelShard(1, 2) });
        var shape = (string n) => shard.Parameters.Specs[shard.Parameters.IndexOf(n)].Shape;
        Assert.Equal(new long[] { 16, 24 }, shape("h.0.attn.c_attn.weight"));   // (C, 3·C/2)
        Assert.Equal(new long[] { 8, 16 }, shape("h.0.attn.c_proj.weight"));    // (C/2, C)
        Assert.Equal(new long[] { 16, 32 }, shape("h.0.mlp.c_fc.weight"));      // (C, 4C/2)
        Assert.Equal(new long[] { 16 }, shape("h.0.attn.c_proj.bias"));         // replicated
        Assert.Throws<NotSupportedException>(() => shard.CreateCache());
        var e = Assert.Throws<ArgumentException>(() => new Gpt2Model(Config, ModelOptions.Default with { TensorParallel = new TensorParallelShard(0, 3) }));
        Assert.Contains("n_head = 2", e.Message);
    }
}
