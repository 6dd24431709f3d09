// Every ICommunicator member of the in-process group against a naive reference computed here from
// each rank's known input (MPI's definitions: sum over ranks, rank-order concatenation, root's copy).
using Loom.Distributed.Communication;

namespace Loom.Distributed.Tests.Communication;

public sealed class InProcessCommunicatorTests
{
    // Rank r's input: distinct, reproducible values per rank.
    private static float[] Input(int rank, int n) => Enumerable.Range(0, n).Select(i => (float)Math.Sin(1 + rank * 31 + i * 0.37)).ToArray();

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 67)]
    [InlineData(3, 1000)]
    public void AllReduceSumIsTheSumInRankOrderOnEveryRank(int size, int n)
    {
        var expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            float s = Input(0, n)[i];
            for (int r = 1; r < size; r++) s += Input(r, n)[i];
            expected[i] = s;
        }
        var results = InProcessCommunicator.Run(size, c =>
        {
            var buffer = Input(c.Rank, n);
            c.AllReduceSum(buffer);
            return buffer;
        });
        foreach (var got in results) Assert.Equal(expected, got);   // bit-identical: fixed order
    }

    [Fact]
    public void AllReduceSumInDoubleIsTheSum()
    {
        var results = InProcessCommunicator.Run(3, c =>
        {
            double[] buffer = [c.Rank + 0.5, 1e-3 * c.Rank, -c.Rank];
            c.AllReduceSum(buffer);
            return buffer;
        });
        foreach (var got in results) Assert.Equal(new[] { 0.5 + 1.5 + 2.5, 1e-3 * (0 + 1 + 2), -3.0 }, got);
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(3, 7)]
    public void ReduceScatterLeavesEachRankItsChunkOfTheSum(int size, int chunk)
    {
        int n = size * chunk;
        var sum = new float[n];
        for (int r = 0; r < size; r++) { var x = Input(r, n); for (int i = 0; i < n; i++) sum[i] += x[i]; }
        var results = InProcessCommunicator.Run(size, c =>
        {
            var receive = new float[chunk];
            c.ReduceScatterSum(Input(c.Rank, n), receive);
            return receive;
        });
        for (int r = 0; r < size; r++)
            for (int i = 0; i < chunk; i++) Assert.Equal(sum[r * chunk + i], results[r][i], 6);
    }

    [Fact]
    public void AllGatherConcatenatesInRankOrder()
    {
        const int size = 3, n = 5;
        var expected = Enumerable.Range(0, size).SelectMany(r => Input(r, n)).ToArray();
        var results = InProcessCommunicator.Run(size, c =>
        {
            var receive = new float[n * size];
            c.AllGather(Input(c.Rank, n), receive);
            return receive;
        });
        foreach (var got in results) Assert.Equal(expected, got);
    }

    [Fact]
    public void BroadcastCopiesTheRootsBuffer()
    {
        var results = InProcessCommunicator.Run(3, c =>
        {
            var floats = Input(c.Rank, 9);
            c.Broadcast(floats, root: 2);
            var bytes = new byte[] { (byte)c.Rank, (byte)(10 + c.Rank) };
            c.Broadcast(bytes, root: 1);
            return (floats, bytes);
        });
        foreach (var (floats, bytes) in results)
        {
            Assert.Equal(Input(2, 9), floats);
            Assert.Equal(new byte[] { 1, 11 }, bytes);
        }
    }

    [Fact]
    public void BarrierReleasesNoRankBeforeAllArrive()
    {
        int arrived = 0;
        var seen = InProcessCommunicator.Run(3, c =>
        {
            Thread.Sleep(20 * c.Rank);   // ranks arrive at different times
            Interlocked.Increment(ref arrived);
            c.Barrier();
            return Volatile.Read(ref arrived);
        });
        Assert.All(seen, s => Assert.Equal(3, s));
    }

    [Fact]
    public void SendAndReceiveMatchBySourceAndTagInOrder()
    {
        var results = InProcessCommunicator.Run(3, c =>
        {
            var got = new List<float[]>();
            if (c.Rank == 0)
            {
                c.Send([1, 2], destination: 2, tag: 7);
                c.Send([3, 4], destination: 2, tag: 7);
                c.Send([5], destination: 2, tag: 8);
            }
            else if (c.Rank == 1) c.Send([9, 9, 9], destination: 2, tag: 7);
            else
            {
                // Receive in an order different from the sends: matching is by (source, tag), FIFO within it.
                var a = new float[1]; c.Receive(a, source: 0, tag: 8); got.Add(a);
                var b = new float[3]; c.Receive(b, source: 1, tag: 7); got.Add(b);
                var d = new float[2]; c.Receive(d, source: 0, tag: 7); got.Add(d);
                var e = new float[2]; c.Receive(e, source: 0, tag: 7); got.Add(e);
            }
            return got;
        });
        Assert.Equal(new float[][] { [5], [9, 9, 9], [1, 2], [3, 4] }, results[2]);
    }

    [Fact]
    public void RankSizeAndLocalRank()
    {
        var ids = InProcessCommunicator.Run(4, c => (c.Rank, c.Size, c.LocalRank));
        Assert.Equal(Enumerable.Range(0, 4).Select(r => (r, 4, r)), ids);
    }

    [Fact]
    public void MismatchedCollectivesFailOnEveryRankInsteadOfHanging()
    {
        var e = Assert.Throws<InvalidOperationException>(() => InProcessCommunicator.Run(2, c =>
        {
            var b = new float[c.Rank == 0 ? 4 : 5];
            c.AllReduceSum(b);
        }));
        Assert.Contains("rank 1 called AllReduceSum(float) with 5", e.Message);
    }

    [Fact]
    public void AbortWakesTheOtherRanksWithTheRankAndReason()
    {
        var e = Assert.Throws<InvalidOperationException>(() => InProcessCommunicator.Run(3, c =>
        {
            if (c.Rank == 1) c.Abort(3, "out of memory on rank 1");
            else
            {
                var buffer = new float[2];
                c.Receive(buffer, source: 1, tag: 0);   // would wait forever without the abort
            }
        }));
        Assert.Contains("rank 1", e.Message);
        Assert.Contains("out of memory on rank 1", e.Message);
    }

    [Fact]
    public void AReceiveOfTheWrongLengthIsAnError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => InProcessCommunicator.Run(2, c =>
        {
            if (c.Rank == 0) c.Send([1, 2, 3], 1, 0);
            else c.Receive(new float[2], 0, 0);
        }));
        Assert.Contains("has 3 floats; the receive buffer has 2", e.Message);
    }
}
