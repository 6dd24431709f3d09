using System.Diagnostics;
using Loom.Core.IO;

namespace Loom.Core.Tests.IO;

public class InputFilesTests
{
    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "loom-inputs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    internal static void MakeFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    // Opening a FIFO blocks until a writer comes; a regression must fail the test, never hang the suite.
    internal static T WithinSeconds<T>(int seconds, Func<T> body)
    {
        var task = Task.Run(body);
        Assert.True(task.Wait(TimeSpan.FromSeconds(seconds)), $"did not finish within {seconds} s (blocked on a FIFO?)");
        return task.Result;
    }

    [Fact]
    public void FoldersAndGlobsSkipFifosAndDanglingLinksAndNamedOnesAreErrors()
    {
        if (OperatingSystem.IsWindows()) return;
        string dir = TempDir();
        File.WriteAllText(Path.Combine(dir, "a.txt"), "a");
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        File.WriteAllText(Path.Combine(dir, "sub", "b.txt"), "b");
        File.WriteAllText(Path.Combine(dir, "c.bin"), "not supported");
        string fifo = Path.Combine(dir, "pipe.txt"), dangling = Path.Combine(dir, "gone.txt"), link = Path.Combine(dir, "link.txt");
        MakeFifo(fifo);
        File.CreateSymbolicLink(dangling, Path.Combine(dir, "missing.txt"));
        File.CreateSymbolicLink(link, Path.Combine(dir, "a.txt"));
        Func<string, bool> txt = p => p.EndsWith(".txt");

        Assert.Equal(InputFileKind.Fifo, InputFiles.KindOf(fifo));
        Assert.Equal(InputFileKind.DanglingLink, InputFiles.KindOf(dangling));
        Assert.Equal(InputFileKind.Regular, InputFiles.KindOf(link));
        Assert.Equal(InputFileKind.Directory, InputFiles.KindOf(dir));
        Assert.Equal(InputFileKind.Missing, InputFiles.KindOf(Path.Combine(dir, "nothing")));

        foreach (var input in new[] { dir, Path.Combine(dir, "*.txt") })
        {
            var selection = WithinSeconds(30, () => InputFiles.Expand([input], txt));
            Assert.Contains(Path.Combine(dir, "a.txt"), selection.Files);
            Assert.Contains(link, selection.Files);
            Assert.DoesNotContain(fifo, selection.Files);
            Assert.DoesNotContain(dangling, selection.Files);
            Assert.Contains(selection.Skipped, s => s.Path == fifo && s.Reason.Contains("FIFO"));
            Assert.Contains(selection.Skipped, s => s.Path == dangling && s.Reason.Contains("missing.txt"));
        }
        Assert.Contains(Path.Combine(dir, "sub", "b.txt"), InputFiles.Expand([dir], txt).Files);

        var e = WithinSeconds(30, () => Assert.Throws<InvalidDataException>(() => CompressedInput.Open(fifo, "--input")));
        Assert.Contains("--input", e.Message);
        Assert.Contains("FIFO", e.Message);
        Assert.Contains("missing.txt", Assert.Throws<InvalidDataException>(() => InputFiles.RequireFile(dangling, "--input")).Message);
        Assert.Contains("is a directory", Assert.Throws<ArgumentException>(() => InputFiles.RequireFile(dir, "--input")).Message);
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => InputFiles.RequireFile(Path.Combine(dir, "nothing.txt"), "--input")).Message);
        Assert.Throws<FileNotFoundException>(() => InputFiles.Expand([Path.Combine(dir, "*.parquet")], txt));
    }
}
