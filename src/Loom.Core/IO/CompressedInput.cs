// The one way Loom opens an input file for reading: it must be a regular file (InputFiles), a
// permission problem becomes a message naming the file, and a ".gz" name is decompressed with
// every gzip member checked (CheckedGZipStream), so a truncated or corrupt file is an error that
// names the file and the byte offset instead of a silently shorter corpus.
namespace Loom.Core.IO;

/// <summary>Opens input files, decompressing and checking gzip.</summary>
public static class CompressedInput
{
    /// <summary>True when <paramref name="path"/> names a gzip file (".gz").</summary>
    public static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A stream of <paramref name="path"/>'s content (decompressed for .gz). <paramref name="option"/> names
    /// where the path came from (e.g. "--input") in errors; <paramref name="compressedLength"/> is the file's size.
    /// </summary>
    public static Stream Open(string path, out long compressedLength, string option = "input", int bufferSize = 1 << 16)
    {
        string full = InputFiles.RequireFile(path, option);
        FileStream file;
        try { file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize); }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"{option} {path} cannot be read (permission denied); fix its permissions or leave it out.", e);
        }
        compressedLength = file.Length;
        return IsGzip(full) ? new CheckedGZipStream(file, full) : file;
    }

    /// <summary>A stream of <paramref name="path"/>'s content (decompressed for .gz).</summary>
    public static Stream Open(string path, string option = "input") => Open(path, out _, option);
}
