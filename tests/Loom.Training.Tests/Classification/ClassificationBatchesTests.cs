using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Training.Tests.Classification;

public class ClassificationBatchesTests
{
    private static List<EncodedExample> Examples(int n, int seed = 3)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(i =>
        {
            int len = 1 + rng.Next(30);
            return new EncodedExample(Enumerable.Range(100, len).ToArray(), new int[len], i % 3, null, i, false);
        }).ToList();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryExampleAppearsOncePerEpochAndTheSameSeedGivesTheSamePlan(bool bucketed)
    {
        var ex = Examples(103);
        var a = new ClassificationBatches(ex, 8, 32, 0, 3, bucketed, padToMax: false, seed: 7);
        var b = new ClassificationBatches(ex, 8, 32, 0, 3, bucketed, padToMax: false, seed: 7);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var plan = a.Plan(epoch);
            Assert.Equal(Enumerable.Range(0, 103), plan.SelectMany(p => p).Order());
            Assert.Equal(plan, b.Plan(epoch));
        }
        Assert.NotEqual(a.Plan(0), a.Plan(1));
    }

    [Fact]
    public void BucketedBatchesPadLessThanRandomOnesAndPadToMaxPadsEverything()
    {
        var ex = Examples(200);
        long Padded(bool bucketed, bool padToMax)
        {
            var batches = new ClassificationBatches(ex, 8, 32, 0, 3, bucketed, padToMax, seed: 1);
            long padded = 0;
            foreach (var batch in batches.Plan(0))
            {
                var (b, t, real) = batches.Fill(batch);
                Assert.Equal(padToMax ? 32 : batch.Max(i => ex[i].Ids.Length), t);
                padded += (long)b * t - real;
            }
            return padded;
        }
        long bucketed = Padded(true, false), random = Padded(false, false), full = Padded(false, true);
        Assert.True(bucketed < random / 4, $"bucketed {bucketed} vs random {random}");
        Assert.True(random < full);
    }

    [Fact]
    public void AFilledBatchIsRightPaddedWithTheMaskAndLabels()
    {
        var ex = new List<EncodedExample>
        {
            new([5, 6, 7], [0, 0, 1], 1, null, 0, false),
            new([8], [0], 0, null, 1, false),
        };
        var batches = new ClassificationBatches(ex, 2, 8, padId: 99, labelWidth: 2, bucketed: false, padToMax: false, seed: 0);
        var (b, t, real) = batches.Fill([0, 1]);
        Assert.Equal((2, 3, 4), (b, t, real));
        var batch = batches.Batch;
        Assert.Equal([5, 6, 7, 8, 99, 99], batch.Ids.ToArray());
        Assert.Equal([0, 0, 1, 0, 0, 0], batch.TokenTypes.ToArray());
        Assert.Equal([1, 1, 1, 1, 0, 0], batch.AttentionMask.ToArray());
        Assert.Equal([1, 0], batches.Labels(ProblemType.SingleLabel).Classes.ToArray());
    }
}
