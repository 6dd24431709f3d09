using System.Text.Json;
using Loom.Distributed.Tests.Harness;

namespace Loom.Distributed.Tests.DataParallel;

/// <summary>The single-process run every data-parallel run is compared with (trained once per test run).</summary>
public sealed class SingleProcessReference : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("loom-dp-").FullName;
    public string Run => Path.Combine(Root, "single");
    public double[] Losses { get; }

    public SingleProcessReference()
    {
        var job = MpiJob.Run(0, ["train", "single", Run, "20", "10"], TimeSpan.FromSeconds(120));
        if (job.ExitCode != 0) throw new InvalidOperationException("the single-process reference run failed: " + job.Output);
        Losses = DataParallelEqualityTests.ReadLosses(Run);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

// The reference is a plain process (no MPI) training the same tiny GPT-2 on the same global batch
// (4 windows × 2 micro-batches of 16 tokens), one thread; every mode on 2 ranks must reproduce its
// loss curve to 1e-5 relative. Differences come only from summing gradients in two halves.
[Collection(nameof(MpiCollection))]
public sealed class DataParallelEqualityTests(SingleProcessReference reference) : IClassFixture<SingleProcessReference>
{
    private const double Tolerance = 1e-5;

    internal static double[] ReadLosses(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "train")
            .OrderBy(e => e.GetProperty("step").GetInt32())
            .Select(e => e.GetProperty("loss").GetDouble()).ToArray();

    private static void AssertSameCurve(double[] want, double[] got, int firstStep = 1)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            double rel = Math.Abs(got[i] - want[i]) / Math.Abs(want[i]);
            Assert.True(rel <= Tolerance, $"step {firstStep + i}: loss {got[i]:R} vs single-process {want[i]:R} (relative difference {rel:E2})");
        }
    }

    [Theory]
    [InlineData("ddp")]
    [InlineData("zero1")]
    [InlineData("zero2")]
    [InlineData("zero3")]
    public void TwoRanksGiveTheSingleProcessLossCurve(string strategy)
    {
        string run = Path.Combine(reference.Root, strategy);
        var job = MpiJob.Run(2, ["train", strategy, run, "20", "10"], TimeSpan.FromSeconds(180));
        Assert.True(job.ExitCode == 0, job.Output);
        Assert.Equal(20, reference.Losses.Length);
        Assert.True(reference.Losses[^1] < reference.Losses[0] * 0.8, "the reference run should learn");   // a curve worth comparing
        AssertSameCurve(reference.Losses, ReadLosses(run));
    }

    // Checkpoints hold the single-process layout: 2 ranks (ZeRO-3, fully sharded) write step 10 and one
    // process finishes the run; one process writes step 10 and 2 ranks (ZeRO-2) finish it. Both
    // continuations are the reference's steps 11–20.
    [Fact]
    public void CheckpointsResumeOnAnotherNumberOfRanks()
    {
        string written = Path.Combine(reference.Root, "zero3-written");
        var job = MpiJob.Run(2, ["train", "zero3", written, "20", "10"], TimeSpan.FromSeconds(180));
        Assert.True(job.ExitCode == 0, job.Output);
        string checkpoint = Path.Combine(written, "checkpoints", "step_000010");
        Assert.True(Directory.Exists(checkpoint), job.Output);

        var single = MpiJob.Run(0, ["train", "single", written, "20", "10", checkpoint], TimeSpan.FromSeconds(120));
        Assert.True(single.ExitCode == 0, single.Output);
        AssertSameCurve(reference.Losses, ReadLosses(written));   // steps 1–10 by 2 ranks, 11–20 by 1

        string resumed = Path.Combine(reference.Root, "single-resumed-on-2");
        CopyDirectory(reference.Run, resumed);
        var two = MpiJob.Run(2, ["train", "zero2", resumed, "20", "10", Path.Combine(resumed, "checkpoints", "step_000010")], TimeSpan.FromSeconds(180));
        Assert.True(two.ExitCode == 0, two.Output);
        AssertSameCurve(reference.Losses, ReadLosses(resumed));
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to), overwrite: true);
    }
}
