using Loom.Core.IO;
using Xunit;

namespace Loom.Core.Tests.IO;

public class DurableFileTests
{
    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "loom-durable-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void WriteReplacesTheFileAndLeavesNoTemporary()
    {
        string dir = TempDir(), path = Path.Combine(dir, "sub", "a.json");
        DurableFile.WriteAllText(path, "first");
        DurableFile.WriteAllText(path, "second é");
        Assert.Equal("second é", File.ReadAllText(path));
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void AbandonedWriteKeepsTheOldFileAndRemovesTheTemporary()
    {
        string dir = TempDir(), path = Path.Combine(dir, "a.bin");
        DurableFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => DurableFile.Write(path, s => { s.Write([9, 9]); throw new InvalidOperationException("writer failed"); }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.False(File.Exists(path + DurableFile.TemporarySuffix));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void CommitTwiceIsAnError()
    {
        string dir = TempDir();
        using var w = DurableFile.Create(Path.Combine(dir, "x"));
        w.Commit();
        Assert.Throws<InvalidOperationException>(w.Commit);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void MoveDirectoryRenames()
    {
        string dir = TempDir(), a = Path.Combine(dir, "a.tmp"), b = Path.Combine(dir, "a");
        Directory.CreateDirectory(a);
        DurableFile.WriteAllText(Path.Combine(a, "f"), "x");
        DurableFile.MoveDirectory(a, b);
        Assert.Equal("x", File.ReadAllText(Path.Combine(b, "f")));
        Assert.False(Directory.Exists(a));
        Directory.Delete(dir, true);
    }
}
