using Loom.Models.Gpt2;
using Loom.Training.Loop;

namespace Loom.Training.Tests.Loop;

public class DocumentBatchesTests
{
    [Fact]
    public void PaddedBatchGivesTheLossAndGradientsOfTheSeparateDocuments()
    {
        var cfg = new Gpt2Config { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };
        using var model = new Gpt2Model(cfg);
        model.InitializeWeights(3);
        var rng = new Random(1);
        int[] a = Enumerable.Range(0, 6).Select(_ => rng.Next(1, 64)).ToArray();   // 5 (input, target) pairs
        int[] b = Enumerable.Range(0, 9).Select(_ => rng.Next(1, 64)).ToArray();   // 8 pairs
        var batches = new DocumentBatches([a, b], batchSize: 2, maxLength: 16, bucketWidth: 16);
        var batch = batches.Next();
        Assert.Equal(2, batch.Batch);
        Assert.Equal(8, batch.Time);        // padded to the longest input in the batch, not to maxLength
        Assert.Equal(13, batch.RealTokens);

        float padded = model.Forward(batch.Inputs, batch.Targets, batch.Batch, batch.Time);
        model.Parameters.ZeroGradients();
        model.Backward();
        float[] paddedGrads = model.Parameters.AllGradients.ToArray();

        // Each document alone, weighted by its share of the real tokens.
        model.Parameters.ZeroGradients();
        double total = 0;
        foreach (var d in new[] { a, b })
        {
            int n = d.Length - 1;
            float loss = model.Forward(d[..n], d[1..], 1, n);
            model.Backward(n / 13f);
            total += loss * n / 13.0;
        }
        Assert.Equal(total, padded, 1e-5);
        float[] separate = model.Parameters.AllGradients.ToArray();
        double scale = separate.Max(Math.Abs);
        for (int i = 0; i < separate.Length; i++)
            Assert.True(Math.Abs(separate[i] - paddedGrads[i]) <= 1e-5 * scale + 1e-7, $"grad {i}: {separate[i]} vs {paddedGrads[i]}");
    }

    [Fact]
    public void BucketsKeepShapesFewAndCoverEveryDocumentOncePerEpoch()
    {
        var rng = new Random(2);
        var docs = Enumerable.Range(0, 100).Select(i => Enumerable.Range(0, rng.Next(2, 120)).Select(_ => i).ToArray()).ToList();
        var batches = new DocumentBatches(docs, batchSize: 8, maxLength: 96, bucketWidth: 32, seed: 5);
        var seen = new List<int>();
        long realTotal = 0, paddedTotal = 0;
        while (seen.Count < 100)
        {
            var batch = batches.Next();
            Assert.True(batch.Batch <= 8);
            Assert.True(batch.Time <= 96);
            for (int r = 0; r < batch.Batch; r++) seen.Add(batch.Inputs[r * batch.Time]);
            // A batch never mixes buckets: all its rows round up to the same multiple of 32.
            var buckets = Enumerable.Range(0, batch.Batch).Select(r => batches.BucketOf(batch.Targets.Skip(r * batch.Time).Take(batch.Time).Count(t => t != -100) + 1)).Distinct();
            Assert.Single(buckets);
            realTotal += batch.RealTokens;
            paddedTotal += (long)batch.Batch * batch.Time;
        }
        Assert.Equal(Enumerable.Range(0, 100).ToHashSet(), seen.ToHashSet());
        Assert.Equal(100, seen.Count);
        // Padding to the batch's own longest document wastes far less than padding everything to 96.
        long toMax = docs.Count * 96L;
        Assert.True(paddedTotal < 0.75 * toMax, $"padded {paddedTotal} positions vs {toMax} when padding to the maximum");
        Assert.True(realTotal > 0);
    }

    [Fact]
    public void BatchesReuseTheirBuffersOnceEveryShapeWasSeen()
    {
        // Equal-length documents: one shape, and epochs divide evenly, so after the first epoch (which
        // plans the epoch queue and the shape's buffers) the next epochs allocate only the epoch plan.
        var docs = Enumerable.Range(0, 8).Select(i => Enumerable.Range(0, 10).Select(j => (i + j) % 50).ToArray()).ToList();
        var batches = new DocumentBatches(docs, 4, 16, 8, seed: 3);
        var first = batches.Next();
        var second = batches.Next();
        Assert.Same(first.Inputs, second.Inputs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var third = batches.Next(); // starts a new epoch: the shuffle plan allocates, the batch does not
        long epochStart = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        batches.Next();
        long midEpoch = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Same(first.Inputs, third.Inputs);
        Assert.True(midEpoch == 0, $"a batch in the middle of an epoch allocated {midEpoch} bytes (the epoch start: {epochStart})");
    }

    [Fact]
    public void TheSameSeedGivesTheSameBatches()
    {
        var docs = Enumerable.Range(0, 30).Select(i => Enumerable.Range(0, 3 + i % 17).Select(j => (i + j) % 50).ToArray()).ToList();
        var x = new DocumentBatches(docs, 4, 32, 8, seed: 9);
        var y = new DocumentBatches(docs, 4, 32, 8, seed: 9);
        for (int i = 0; i < 20; i++) Assert.Equal(x.Next().Inputs, y.Next().Inputs);
    }
}
