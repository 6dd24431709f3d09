using Loom.Distributed.Tests.Harness;

namespace Loom.Distributed.Tests.Communication;

[Collection(nameof(MpiCollection))]
public sealed class MpiCommunicatorTests
{
    // Each collective, non-blocking ones included, against its definition computed by hand on every rank
    // (three ranks, so rank order and chunk placement matter).
    [Fact]
    public void EveryCollectiveMatchesItsDefinitionOnThreeRanks()
    {
        var job = MpiJob.Run(3, ["collectives"], TimeSpan.FromSeconds(120));
        Assert.False(job.TimedOut, job.Output);
        Assert.True(job.ExitCode == 0, job.Output);
        for (int r = 0; r < 3; r++) Assert.Contains($"rank {r} of 3", job.Output);
    }

    // Rank 1 throws while rank 0 waits in a barrier: without the abort, rank 0 would wait forever.
    [Fact]
    public void AFailingRankEndsTheWholeJobWithAMessageNamingIt()
    {
        var job = MpiJob.Run(2, ["fail"], TimeSpan.FromSeconds(90));
        Assert.False(job.TimedOut, "the job hung: " + job.Output);
        Assert.NotEqual(0, job.ExitCode);
        Assert.Contains("rank 1 failed: InvalidOperationException: planted failure", job.Output);
        Assert.True(job.Elapsed < TimeSpan.FromSeconds(90), $"took {job.Elapsed}");
    }
}
