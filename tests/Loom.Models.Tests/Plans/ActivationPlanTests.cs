// The activation planner every family uses: regions are aligned, disjoint, exactly as long as asked,
// and cannot be read past their end or before the block exists.
using Loom.Models.Plans;

namespace Loom.Models.Tests.Plans;

public class ActivationPlanTests
{
    [Fact]
    public void RegionsAreAlignedDisjointAndExactlyAsLongAsPlanned()
    {
        using var plan = new ActivationPlan();
        long[] sizes = [1, 17, 0, 64, 5];
        var regions = sizes.Select(plan.Add).ToArray();
        plan.Allocate();
        for (int i = 0; i < regions.Length; i++)
        {
            var s = plan[regions[i]];
            Assert.Equal(sizes[i], s.Length);
            unsafe { fixed (float* p = s) if (s.Length > 0) Assert.Equal(0, (long)p % 64); }
            s.Fill(i + 1);
        }
        for (int i = 0; i < regions.Length; i++) Assert.All(plan[regions[i]].ToArray(), v => Assert.Equal(i + 1, v));
    }

    [Fact]
    public void SubRegionsAreCheckedAndThePlanIsFixedOnceAllocated()
    {
        using var plan = new ActivationPlan();
        var r = plan.Add(10);
        Assert.Throws<InvalidOperationException>(() => plan[r].Length);   // not allocated yet
        plan.Allocate();
        Assert.Equal(4, plan[r.Slice(6, 4)].Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Slice(7, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Slice(-1, 2));
        Assert.Throws<InvalidOperationException>(() => plan.Add(3));
    }

    [Fact]
    public void TheCacheKeepsOnePlanPerShapeUpToItsCapacity()
    {
        int made = 0;
        using var cache = new ActivationPlanCache<ActivationPlan>((b, t) => { made++; var p = new ActivationPlan(); p.Add(b * t); p.Allocate(); return p; }, capacity: 2);
        var a = cache.Use(1, 4);
        Assert.Same(a, cache.Use(1, 4));
        var b = cache.Use(2, 4);
        Assert.Same(a, cache.Use(1, 4));
        Assert.Equal(2, made);
        cache.Use(3, 4);   // a third shape: the others are freed
        Assert.Equal(3, made);
        Assert.NotSame(a, cache.Use(1, 4));
        Assert.NotSame(b, cache.Current);
    }

    [Fact]
    public void APlanOnlyPlanSizesTheSameBlockWithoutAllocating()
    {
        // Memory planning (PlanMemory) uses the families' own plans made plan-only: the bytes are those
        // the model allocates for the same shape, with and without checkpointing and dropout masks.
        var gpt2 = new Loom.Models.Gpt2.Gpt2Config { VocabSize = 50, MaxPositions = 16, Embedding = 16, Layers = 3, Heads = 2 };
        foreach (var (checkpointing, dropout) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            using var real = new Loom.Models.Gpt2.Gpt2Activations(gpt2, 2, 8, checkpointing, dropout);
            using var sized = new Loom.Models.Gpt2.Gpt2Activations(gpt2, 2, 8, checkpointing, dropout, allocate: false);
            Assert.True(sized.IsPlanOnly);
            Assert.Equal(real.Bytes, sized.Bytes);
            Assert.Throws<InvalidOperationException>(sized.Allocate);
            Assert.Equal((double)real.Bytes, Loom.Models.Gpt2.Gpt2Model.PlanMemory(gpt2, 2, 8, checkpointing, dropout).ActivationBytes);
        }
        var llama = new Loom.Models.Llama.LlamaConfig { VocabSize = 50, HiddenSize = 16, IntermediateSize = 24, Layers = 3, Heads = 2, KeyValueHeads = 1, MaxPositions = 16 };
        using (var real = new Loom.Models.Llama.LlamaActivations(llama, 2, 8))
            Assert.Equal((double)real.Bytes, Loom.Models.Llama.LlamaModel.PlanMemory(llama, 2, 8).ActivationBytes);
    }

    [Fact]
    public void APlanOnlyPlanAcceptsRegionsNoSpanCouldAddress()
    {
        // 100,000 × 1,024 × 50,257 logits: far past a span, but only counted, never allocated.
        var plan = new PlanOnly();
        plan.Add(100_000L * 1024 * 50257);
        Assert.Equal(100_000L * 1024 * 50257 * sizeof(float), plan.Bytes);
        Assert.Throws<OutOfMemoryException>(() => new ActivationPlan().Add(100_000L * 1024 * 50257));
    }

    private sealed class PlanOnly() : ActivationPlan(allocate: false);
}
