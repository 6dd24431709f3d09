using System.Text.Json;
using Loom.Distributed.Tests.Harness;

namespace Loom.Distributed.Tests.DataParallel;

/// <summary>
/// Every run the equality tests compare, in three launches (each a .NET start-up and JIT warm-up on
/// every rank, the bulk of the time on a small machine): the single-process reference, which writes a
/// checkpoint at step 10; one 2-rank job training each strategy, then finishing a copy of the
/// reference from its step-10 checkpoint with ZeRO-2; one process finishing the ZeRO-3 run from its
/// step-10 checkpoint.
/// </summary>
public sealed class DataParallelRuns : IDisposable
{
    public static readonly string[] Strategies = ["ddp", "zero1", "zero2", "zero3"];
    public string Root { get; } = Directory.CreateTempSubdirectory("loom-dp-").FullName;
    public string Path(string name) => System.IO.Path.Combine(Root, name);
    public MpiJob.Result Reference { get; }
    public MpiJob.Result? TwoRanks { get; }
    public MpiJob.Result? ResumedOnOne { get; }

    public DataParallelRuns()
    {
        Reference = MpiJob.Run(0, ["train", "single", Path("single"), "20", "10", "-"], TimeSpan.FromSeconds(180));
        if (Reference.ExitCode != 0) return;
        DataParallelEqualityTests.CopyDirectory(Path("single"), Path("single-resumed-on-2"));
        var runs = Strategies.SelectMany(s => new[] { s, Path(s), "20", "10", "-" }).ToList();
        runs.AddRange(["zero2", Path("single-resumed-on-2"), "20", "10", System.IO.Path.Combine(Path("single-resumed-on-2"), "checkpoints", "step_000010")]);
        TwoRanks = MpiJob.Run(2, ["train", .. runs], TimeSpan.FromSeconds(400));
        string checkpoint = System.IO.Path.Combine(Path("zero3"), "checkpoints", "step_000010");
        if (TwoRanks.ExitCode != 0) return;
        DataParallelEqualityTests.CopyDirectory(Path("zero3"), Path("zero3-resumed-on-1"));
        ResumedOnOne = MpiJob.Run(0, ["train", "single", Path("zero3-resumed-on-1"), "20", "10", System.IO.Path.Combine(Path("zero3-resumed-on-1"), "checkpoints", "step_000010")], TimeSpan.FromSeconds(180));
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
public sealed class DataParallelEqualityTests(DataParallelRuns runs) : IClassFixture<DataParallelRuns>
{
    private const double Tolerance = 1e-5;

    internal static double[] ReadLosses(string run) =>
        File.ReadLines(System.IO.Path.Combine(run, "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "train")
            .OrderBy(e => e.GetProperty("step").GetInt32())
            .Select(e => e.GetProperty("loss").GetDouble()).ToArray();

    private static void AssertSameCurve(double[] want, double[] got)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            double rel = Math.Abs(got[i] - want[i]) / Math.Abs(want[i]);
            Assert.True(rel <= Tolerance, $"step {i + 1}: loss {got[i]:R} vs single-process {want[i]:R} (relative difference {rel:E2})");
        }
    }

    private double[] Reference()
    {
        Assert.True(runs.Reference.ExitCode == 0, runs.Reference.Output);
        var losses = ReadLosses(runs.Path("single"));
        Assert.Equal(20, losses.Length);
        Assert.True(losses[^1] < losses[0] * 0.8, "the reference run should learn");   // a curve worth comparing
        return losses;
    }

    [Theory]
    [InlineData("ddp")]
    [InlineData("zero1")]
    [InlineData("zero2")]
    [InlineData("zero3")]
    public void TwoRanksGiveTheSingleProcessLossCurve(string strategy)
    {
        var reference = Reference();
        Assert.True(runs.TwoRanks is { ExitCode: 0 }, runs.TwoRanks?.Output);
        AssertSameCurve(reference, ReadLosses(runs.Path(strategy)));
        // Rank 0 alone wrote the run directory; both ranks trained (each reports its memory).
        Assert.Contains($"rank 1 {strategy}: memory", runs.TwoRanks!.Output);
    }

    // ZeRO's accounting (§5): per rank, DDP holds P + P + 2P floats (parameters, gradients, AdamW moments);
    // ZeRO-1 shards the moments, ZeRO-2 also the gradients, ZeRO-3 also the parameters, each to ⌈1/N⌉ of
    // every unit (padding to 16 floats per rank and unit included). P is the model's own value block,
    // computed here from the configuration, not read from the strategy.
    [Fact]
    public void EachStageHoldsItsShareOfTheModelStates()
    {
        Assert.True(runs.TwoRanks is { ExitCode: 0 }, runs.TwoRanks?.Output);
        using var model = new Loom.Models.Gpt2.Gpt2Model(Worker.Tiny);
        long p = model.Parameters.Floats * sizeof(float);
        (long Parameters, long Gradients, long Optimizer) Held(string strategy)
        {
            // mpirun gives its ranks a terminal, so a line may start with the terminal's escape codes.
            string key = $"rank 0 {strategy}: memory";
            string text = runs.TwoRanks!.Output.Split('\n').First(l => l.Contains(key, StringComparison.Ordinal));
            var line = text[text.IndexOf(key, StringComparison.Ordinal)..].Trim().Split(' ');
            return (long.Parse(line[5]), long.Parse(line[7]), long.Parse(line[9]));
        }
        Assert.Equal((p, p, 2 * p), Held("ddp"));
        var zero1 = Held("zero1");
        var zero2 = Held("zero2");
        var zero3 = Held("zero3");
        Assert.Equal((p, p), (zero1.Parameters, zero1.Gradients));
        Assert.InRange(zero1.Optimizer, p, p + 2 * 16 * 4 * (Worker.Tiny.Layers + 1));          // 2P / 2 ranks, plus padding
        Assert.Equal((p, zero1.Optimizer), (zero2.Parameters, zero2.Optimizer));
        Assert.InRange(zero2.Gradients, p / 2, p / 2 + 16 * 4 * (Worker.Tiny.Layers + 1));
        Assert.Equal((zero2.Gradients, zero2.Gradients, zero1.Optimizer), zero3);                 // parameters sharded like the gradients
        long ddpTotal = 4 * p, zero3Total = zero3.Parameters + zero3.Gradients + zero3.Optimizer;
        Assert.InRange(zero3Total / (double)ddpTotal, 0.5, 0.52);
    }

    // Checkpoints hold the single-process layout: the ZeRO-3 run's step-10 checkpoint (written by 2 ranks
    // from parameter and moment shards) is finished by one process, and the single-process run's step-10
    // checkpoint is finished by 2 ranks with ZeRO-2; both continuations are the reference's steps 11–20.
    [Fact]
    public void CheckpointsResumeOnAnotherNumberOfRanks()
    {
        var reference = Reference();
        Assert.True(runs.TwoRanks is { ExitCode: 0 }, runs.TwoRanks?.Output);
        AssertSameCurve(reference, ReadLosses(runs.Path("single-resumed-on-2")));   // 1–10 by one process, 11–20 by 2 ranks
        Assert.True(runs.ResumedOnOne is { ExitCode: 0 }, runs.ResumedOnOne?.Output);
        AssertSameCurve(reference, ReadLosses(runs.Path("zero3-resumed-on-1")));    // 1–10 by 2 ranks, 11–20 by one
    }

    internal static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to), overwrite: true);
    }
}
