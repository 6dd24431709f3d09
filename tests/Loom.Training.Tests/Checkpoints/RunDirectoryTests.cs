using Loom.Training.Checkpoints;

namespace Loom.Training.Tests.Checkpoints;

public class RunDirectoryTests
{
    [Fact]
    public void AFreshRunRefusesANonEmptyDirectoryAndOverwriteRemovesOnlyTheRun()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-rundir-" + Guid.NewGuid().ToString("N"));
        RunDirectory.PrepareFresh(dir, overwrite: false);    // absent: fine
        Directory.CreateDirectory(Path.Combine(dir, "checkpoints", "step_000004"));
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), "{}\n");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        var ex = Assert.Throws<IOException>(() => RunDirectory.PrepareFresh(dir, overwrite: false));
        Assert.Contains("--resume", ex.Message);
        Assert.Contains("--overwrite", ex.Message);
        Assert.True(File.Exists(Path.Combine(dir, "metrics.jsonl")));   // nothing was touched

        RunDirectory.PrepareFresh(dir, overwrite: true);
        Assert.False(Directory.Exists(Path.Combine(dir, "checkpoints")));
        Assert.False(File.Exists(Path.Combine(dir, "metrics.jsonl")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt")));
    }
}
