// The cache's plans share one native block per slot (issue 12's memory fix): after K distinct
// shapes it holds the bytes of the largest plan, not the sum of K; distinct slots (pipeline
// micro-batches in flight) keep distinct memory; and every family gives bit-identical logits, loss
// and gradients on a shape run after other, larger and smaller, shapes to those of a fresh model
// (the audit: no region a forward or backward reads survives from another shape's pass).
using Loom.Models.Bert;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Models.Plans;
using Loom.Models.Regularization;
using Loom.Models.Tests.T5;

namespace Loom.Models.Tests.Plans;

public class ActivationPlanCacheTests
{
    private static ActivationPlan Make(int b, int t)
    {
        var p = new ActivationPlan();
        p.Add((long)b * t * 1000);
        p.Allocate();
        return p;
    }

    [Fact]
    public void DistinctShapesShareOneBlockTheSizeOfTheLargest()
    {
        using var cache = new ActivationPlanCache<ActivationPlan>(Make);
        (int B, int T)[] shapes = [(4, 30), (8, 64), (2, 17), (16, 50), (1, 9), (8, 64)];
        long largest = 0;
        foreach (var (b, t) in shapes)
        {
            var plan = cache.Use(b, t);
            largest = Math.Max(largest, plan.Bytes);
            Assert.Equal(largest, cache.NativeBytes);            // one block, grown to the largest plan so far
        }
        Assert.Equal(16L * 50 * 1000 * sizeof(float), cache.NativeBytes);   // not the ~3.2 MB the 5 shapes add up to
        cache.Clear();
        Assert.Equal(0, cache.NativeBytes);
    }

    [Fact]
    public void SlotsKeepTheirOwnMemorySoMicroBatchesInFlightDoNotOverwriteEachOther()
    {
        ActivationRegion region = default;
        using var cache = new ActivationPlanCache<ActivationPlan>((b, t) => { var p = new ActivationPlan(); region = p.Add(b * t); p.Allocate(); return p; });
        var s0 = cache.Use(2, 4, 0);
        var r0 = region;
        s0[r0].Fill(1);
        var s1 = cache.Use(2, 4, 1);
        s1[region].Fill(2);
        Assert.NotSame(s0, s1);
        Assert.Equal(2 * Align(8), cache.NativeBytes);
        Assert.All(cache.Use(2, 4, 0)[r0].ToArray(), v => Assert.Equal(1, v));   // slot 0's micro-batch is intact
    }

    private static long Align(long floats) => ((floats + 15) & ~15L) * sizeof(float);

    [Fact]
    public void APlanReadsTheSharedBlockAfterItGrows()
    {
        ActivationRegion small = default, big = default;
        using var cache = new ActivationPlanCache<ActivationPlan>((b, t) =>
        {
            var p = new ActivationPlan();
            var r = p.Add((long)b * t);
            if (b == 1) small = r; else big = r;
            p.Allocate();
            return p;
        });
        var a = cache.Use(1, 8);
        a[small].Fill(1);
        var b = cache.Use(4, 8);   // grows the block
        b[big].Fill(2);
        a = cache.Use(1, 8);
        Assert.Equal(8, a[small].Length);
        Assert.All(a[small].ToArray(), v => Assert.Equal(2, v));   // the same memory, rewritten by the larger plan
        Assert.Equal(Align(32), cache.NativeBytes);
    }

    public static TheoryData<string, bool, float> Families() => new()
    {
        { "gpt2", false, 0f }, { "gpt2", true, 0.2f }, { "llama", false, 0f }, { "llama", true, 0f }, { "bert", false, 0.1f }, { "bert", true, 0.1f },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void AShapeAfterOtherShapesGivesBitIdenticalResultsToAFreshModel(string family, bool checkpointing, float dropout)
    {
        var options = new ModelOptions { Dropout = new DropoutOptions { Hidden = dropout, Seed = 3 } };
        (float, float[], float[]) Run(bool otherShapesFirst)
        {
            using var fx = new FixtureModel(family, options);
            SetUp(fx.Model, checkpointing, dropout > 0);
            if (otherShapesFirst)
            {
                // Larger (grows the block), then smaller: both leave their values in the shared block.
                RunShape(fx, fx.B + 2, fx.T);
                RunShape(fx, 1, Math.Max(2, fx.T - 3));
                if (fx.Model is ITrainingMode m) m.DropoutStep = 0;   // a training backward advances the masks' step; compare the same masks
            }
            float loss = fx.ForwardBackward();
            return (loss, fx.Logits(), fx.Parameters.AllGradients.ToArray());
        }
        var (loss, logits, grads) = Run(false);
        var (lossAfter, logitsAfter, gradsAfter) = Run(true);
        Assert.Equal(loss, lossAfter);
        Assert.Equal(logits, logitsAfter);
        Assert.Equal(grads, gradsAfter);
        Assert.Contains(grads, g => g != 0);
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void T5GivesBitIdenticalResultsOnAShapeAfterOtherShapes(string variant)
    {
        (float, float[], float[]) Run(bool otherShapesFirst)
        {
            using var f = T5ReferenceTests.Load(variant);
            int[] ids = f.InputIds, labels = f.Labels;
            if (otherShapesFirst)
                foreach (var (b, src, tgt) in new[] { (f.B + 2, f.S, f.T), (1, Math.Max(1, f.S - 2), Math.Max(1, f.T - 1)) })
                {
                    int[] i2 = Enumerable.Range(0, b * src).Select(i => ids[(i * 7 + 3) % ids.Length]).ToArray();
                    int[] l2 = Enumerable.Range(0, b * tgt).Select(i => labels[(i * 5 + 1) % labels.Length] is int l && l >= 0 ? l : 1).ToArray();
                    f.Model.Forward(i2, Enumerable.Repeat(1, b * src).ToArray(), l2, b, src, tgt);
                    f.Model.Backward();
                }
            f.Model.Parameters.ZeroGradients();
            float loss = f.Forward();
            f.Model.Backward();
            return (loss, f.Model.Logits.ToArray(), f.Model.Parameters.AllGradients.ToArray());
        }
        var (loss, logits, grads) = Run(false);
        var (lossAfter, logitsAfter, gradsAfter) = Run(true);
        Assert.Equal(loss, lossAfter);
        Assert.Equal(logits, logitsAfter);
        Assert.Equal(grads, gradsAfter);
        Assert.Contains(grads, g => g != 0);
    }

    private static void SetUp(IHiddenStateModel model, bool checkpointing, bool training)
    {
        switch (model)
        {
            case Gpt2Model g: g.ActivationCheckpointing = checkpointing; g.IsTraining = training; break;
            case LlamaModel l: l.ActivationCheckpointing = checkpointing; break;
            case BertModel b: b.ActivationCheckpointing = checkpointing; b.IsTraining = training; break;
        }
    }

    // A forward and backward on (b, t) with ids and targets drawn from the fixture's ids.
    private static void RunShape(FixtureModel fx, int b, int t)
    {
        int[] ids = Enumerable.Range(0, b * t).Select(i => fx.Ids[(i * 7 + 3) % fx.Ids.Length]).ToArray();
        int[] targets = Enumerable.Range(0, b * t).Select(i => i % 3 == 0 ? -100 : fx.Ids[(i * 5 + 1) % fx.Ids.Length]).ToArray();
        switch (fx.Model)
        {
            case Gpt2Model g: g.Forward(ids, targets, b, t); g.Backward(); break;
            case LlamaModel l: l.Forward(ids, targets, b, t); l.Backward(); break;
            case BertModel m:
                m.Forward(ids, new int[b * t], Enumerable.Repeat(1, b * t).ToArray(), targets, b, t);
                m.Backward();
                break;
        }
    }
}
