using Loom.Training.Checkpoints;

namespace Loom.Training.Tests.Checkpoints;

public class TrainingCheckpointTests
{
    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-ckpt-order-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Fake(string root, long step, string? name = null)
    {
        string d = Path.Combine(root, name ?? $"step_{step:D6}");
        Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(d, "state.json"), "{}");
        return d;
    }

    [Fact]
    public void CheckpointsAreOrderedByStepNumberPastSixDigits()
    {
        string root = TempDir();
        long[] steps = [1_000_001, 999_998, 10, 1_000_000, 999_999, 12_000_000];
        foreach (var s in steps) Fake(root, s);
        Directory.CreateDirectory(Path.Combine(root, "step_2000000.tmp"));   // a crash mid-write: not a checkpoint
        var expected = steps.Order().Select(s => Path.Combine(root, $"step_{s:D6}")).ToList();   // the reference: numeric order
        Assert.Equal(expected, TrainingCheckpoint.List(root));
        Assert.Equal(Path.Combine(root, "step_12000000"), TrainingCheckpoint.Latest(root));
        Assert.Equal(1_000_000, TrainingCheckpoint.StepOf(Path.Combine(root, "step_1000000")));
        Assert.Equal(-1, TrainingCheckpoint.StepOf(Path.Combine(root, "step_2000000.tmp")));
    }

    [Fact]
    public void PruneKeepsTheNewestByStepNumber()
    {
        string root = TempDir();
        foreach (var s in new long[] { 999_998, 999_999, 1_000_000, 1_000_001 }) Fake(root, s);
        TrainingCheckpoint.Prune(root, keep: 2, protect: Path.Combine(root, "step_999998"));
        Assert.Equal(new[] { "step_1000000", "step_1000001", "step_999998" },
            Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void LatestIsNullWithoutCheckpoints()
    {
        Assert.Null(TrainingCheckpoint.Latest(Path.Combine(TempDir(), "checkpoints")));
    }

    [Fact]
    public void AChangedFixedSettingIsNamedWithBothValues()
    {
        var state = new CheckpointState(4, 1, 4, 1f, "{}") { FixedSettings = new() { ["train.batch_size"] = "2", ["train.seed"] = "7" } };
        var ex = Assert.Throws<InvalidOperationException>(() => TrainingCheckpoint.EnsureSameFixedSettings("ck", state,
            new Dictionary<string, string> { ["train.batch_size"] = "4", ["train.seed"] = "7" }));
        Assert.Contains("train.batch_size was 2 and is now 4", ex.Message);
        Assert.DoesNotContain("train.seed", ex.Message);
        TrainingCheckpoint.EnsureSameFixedSettings("ck", state, new Dictionary<string, string> { ["train.batch_size"] = "2", ["train.seed"] = "7" });
    }
}
