// Writes a compressed model next to its source: a staging folder gets the new files, then every other
// file of the source directory (tokenizer files, generation config, ...), is fsynced, and is renamed
// into place, so a crash never leaves a half-written model under the output name (as LoRA's merge).
using Loom.Core.IO;

namespace Loom.Compression.IO;

/// <summary>Crash-safe output directories for compressed models.</summary>
public static class ModelDirectoryWriter
{
    /// <summary>Throws unless <paramref name="outputDirectory"/> is absent or empty (and differs from the source).</summary>
    public static void CheckOutput(string sourceDirectory, string outputDirectory)
    {
        if (Path.GetFullPath(sourceDirectory).TrimEnd('/') == Path.GetFullPath(outputDirectory).TrimEnd('/'))
            throw new IOException($"--output {outputDirectory} is the --model directory; write the compressed model to a new directory.");
        if (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any())
            throw new IOException($"Output directory {outputDirectory} exists and is not empty; choose a new --output directory or remove it.");
        if (File.Exists(outputDirectory)) throw new IOException($"--output {outputDirectory} is a file; give a directory path.");
    }

    /// <summary>
    /// Runs <paramref name="write"/> on a staging folder, copies the source's other files (those
    /// <paramref name="write"/> did not create), and moves the folder to <paramref name="outputDirectory"/>.
    /// </summary>
    public static void Write(string sourceDirectory, string outputDirectory, Action<string> write)
    {
        CheckOutput(sourceDirectory, outputDirectory);
        string staging = Path.GetFullPath(outputDirectory).TrimEnd('/') + ".tmp-compress";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        write(staging);
        foreach (var f in Directory.EnumerateFiles(sourceDirectory))
        {
            string target = Path.Combine(staging, Path.GetFileName(f));
            if (!File.Exists(target)) File.Copy(f, target);
        }
        DurableFile.SyncDirectory(staging);
        if (Directory.Exists(outputDirectory)) Directory.Delete(outputDirectory);
        DurableFile.MoveDirectory(staging, outputDirectory);
    }
}
