// The one way Loom writes a file that must survive a crash: write "<path>.tmp", flush it to disk
// (fsync), rename it over <path>, then fsync the directory so the rename itself is durable (POSIX
// rename(2) is atomic, but only an fsync of the directory makes it persistent; see the ext4 and
// SQLite notes on "atomic commit"). A reader therefore sees the old file or the new one, never a
// torn one, and a kill -9 at any point leaves at most a stray ".tmp" that the next write replaces.
using System.Runtime.InteropServices;
using System.Text;

namespace Loom.Core.IO;

/// <summary>Crash-safe whole-file writes: temporary file, fsync, atomic rename, directory fsync.</summary>
public static class DurableFile
{
    /// <summary>Suffix of the temporary file written beside the target.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no BOM) to <paramref name="path"/> durably.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> durably.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var w = Create(path);
        w.Stream.Write(bytes);
        w.Commit();
    }

    /// <summary>Writes through <paramref name="write"/> to <paramref name="path"/> durably.</summary>
    public static void Write(string path, Action<Stream> write, int bufferSize = 1 << 16)
    {
        using var w = Create(path, bufferSize);
        write(w.Stream);
        w.Commit();
    }

    /// <summary>Opens a writer on "<paramref name="path"/>.tmp"; <see cref="DurableFileWriter.Commit"/> puts it in place, Dispose without it removes it.</summary>
    public static DurableFileWriter Create(string path, int bufferSize = 1 << 16) => new(path, bufferSize);

    /// <summary>Renames <paramref name="source"/> (a file or directory whose contents are already synced) to <paramref name="destination"/> and syncs the parent directory.</summary>
    public static void MoveDirectory(string source, string destination)
    {
        SyncDirectory(source);
        Directory.Move(source, destination);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
    }

    /// <summary>fsyncs a directory so that the names created or renamed in it persist (no-op where the OS offers no such call).</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;   // NTFS journals metadata; a directory cannot be opened for flushing there
        int fd = Native.open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;                         // best effort: a directory we cannot open (permissions) still holds the file
        try { Native.fsync(fd); }
        finally { Native.close(fd); }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)] public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int fsync(int fd);
        [DllImport("libc")] public static extern int close(int fd);
    }
}

/// <summary>A file being written to its temporary name; <see cref="Commit"/> makes it durable and visible.</summary>
public sealed class DurableFileWriter : IDisposable
{
    private readonly string _path, _tmp;
    private readonly FileStream _file;
    private bool _done;

    internal DurableFileWriter(string path, int bufferSize)
    {
        _path = System.IO.Path.GetFullPath(path);
        _tmp = _path + DurableFile.TemporarySuffix;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!);
        _file = new FileStream(_tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize);
    }

    /// <summary>The temporary file; seekable, so headers can be patched before <see cref="Commit"/>.</summary>
    public FileStream Stream => _file;

    /// <summary>Final path.</summary>
    public string Path => _path;

    /// <summary>fsyncs the data, renames it over the final path and fsyncs the directory.</summary>
    public void Commit()
    {
        if (_done) throw new InvalidOperationException($"{_path} was already committed or abandoned.");
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(_tmp, _path, overwrite: true);
        _done = true;
        DurableFile.SyncDirectory(System.IO.Path.GetDirectoryName(_path)!);
    }

    /// <summary>Without <see cref="Commit"/>: closes and deletes the temporary file (never throws, so it cannot mask the error that got here).</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        try { _file.Dispose(); } catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        try { File.Delete(_tmp); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
