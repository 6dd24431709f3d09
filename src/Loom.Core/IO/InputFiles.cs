// Which files an input list names, for every command that reads input: a path, a folder (searched
// recursively for the files the command reads) or a glob (*, ?, **). Only regular files are read:
// inside a folder or a glob, a FIFO (which would block the open forever), a socket, a device or a
// dangling symbolic link is skipped and listed with the reason, so a command can warn about it; a
// path named directly must be a regular file, and anything else is an error that says what it is.
// The kind comes from stat(2) through the runtime's own System.Native shim (its FileStatus starts
// with the flags and the mode on every platform), because .NET's file APIs do not expose it.
using Loom.Core.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Loom.Core.IO;

/// <summary>Expands and checks input paths.</summary>
public static class InputFiles
{
    /// <summary>What <paramref name="path"/> names, following symbolic links.</summary>
    public static InputFileKind KindOf(string path)
    {
        if (OperatingSystem.IsWindows())
            return Directory.Exists(path) ? InputFileKind.Directory : File.Exists(path) ? InputFileKind.Regular : InputFileKind.Missing;
        Span<byte> status = stackalloc byte[512];       // larger than System.Native's FileStatus on any platform
        if (Native.Stat(path, ref MemoryMarshal.GetReference(status)) != 0)
            return Native.LStat(path, ref MemoryMarshal.GetReference(status)) == 0 ? InputFileKind.DanglingLink : InputFileKind.Missing;
        int mode = MemoryMarshal.Read<int>(status[4..]) & 0xF000;
        return mode switch
        {
            0x8000 => InputFileKind.Regular,
            0x4000 => InputFileKind.Directory,
            0x1000 => InputFileKind.Fifo,
            0xC000 => InputFileKind.Socket,
            _ => InputFileKind.Device,
        };
    }

    /// <summary>
    /// The full path of <paramref name="path"/> if it is a regular file; otherwise an error naming
    /// <paramref name="option"/> (the option or config field as the user wrote it), the path and what it is.
    /// </summary>
    public static string RequireFile(string path, string option)
    {
        string full = Path.GetFullPath(path);
        return KindOf(full) switch
        {
            InputFileKind.Regular => full,
            InputFileKind.Missing => throw new FileNotFoundException($"{option} {path} does not exist.", full),
            InputFileKind.Directory => throw new ArgumentException($"{option} {path} is a directory; give a file."),
            var kind => throw new InvalidDataException($"{option} {path} is {Describe(full, kind)}, not a regular file; give a regular file."),
        };
    }

    /// <summary>The files a model or tokenizer folder may hold (Hugging Face's layout).</summary>
    public static readonly string[] ModelFolderFiles =
        ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "encoder.json", "vocab.bpe", "vocab.txt", "low_rank.json", "spiece.model", "tokenizer.model"];

    /// <summary>
    /// Checks the files a model or tokenizer folder may hold (config.json, tokenizer.json, ...): each one
    /// present must be a regular file, since opening a FIFO among them would block forever.
    /// </summary>
    public static void RequireRegularMembers(string directory, string option, string[]? names = null)
    {
        names ??= ModelFolderFiles;
        if (KindOf(directory) != InputFileKind.Directory) return;
        foreach (var name in names)
        {
            string path = Path.Combine(directory, name);
            var kind = KindOf(path);
            if (kind is InputFileKind.Missing or InputFileKind.Regular) continue;
            throw new InvalidDataException($"{option} {directory}: {name} is {(kind == InputFileKind.Directory ? "a directory" : Describe(path, kind))}, not a regular file.");
        }
    }

    /// <summary>
    /// The files named by <paramref name="inputs"/>: paths (any name), folders (searched recursively for names
    /// <paramref name="supported"/> accepts) and globs, without repeats, each folder's and glob's files in ordinal order.
    /// An input that names nothing is an error naming <paramref name="option"/>; non-regular entries of folders and globs are skipped.
    /// </summary>
    public static InputSelection Expand(IEnumerable<string> inputs, Func<string, bool> supported, string option = "--input", string? supportedDescription = null)
    {
        var files = new List<string>();
        var skipped = new List<SkippedInput>();
        foreach (var input in inputs)
        {
            string full = Path.GetFullPath(input);
            var kind = KindOf(full);
            if (kind == InputFileKind.Directory)
            {
                int before = files.Count;
                foreach (var f in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Where(supported).Select(Path.GetFullPath).Order(StringComparer.Ordinal))
                    Add(f);
                if (files.Count == before && skipped.Count == 0)
                    throw new FileNotFoundException($"{option} {input} is a folder that holds no {supportedDescription ?? "input"} files.", full);
                continue;
            }
            if (kind == InputFileKind.Missing && input.IndexOfAny(['*', '?']) >= 0)
            {
                var matched = Glob(input);
                if (matched.Count == 0) throw new FileNotFoundException($"{option} {input}: no file matches.");
                foreach (var f in matched) Add(f);
                continue;
            }
            files.Add(RequireFile(input, option));
        }
        return new InputSelection(files.Distinct(StringComparer.Ordinal).ToList(), skipped);

        void Add(string file)
        {
            var k = KindOf(file);
            if (k == InputFileKind.Regular) files.Add(file);
            else if (k != InputFileKind.Directory) skipped.Add(new SkippedInput(file, $"{Describe(file, k)}, not a regular file"));
        }
    }

    private static string Describe(string path, InputFileKind kind) => kind switch
    {
        InputFileKind.DanglingLink => $"a symbolic link to {LinkTarget(path)}, which does not exist",
        InputFileKind.Fifo => "a FIFO (named pipe)",
        InputFileKind.Socket => "a socket",
        InputFileKind.Device => "a device",
        InputFileKind.Directory => "a directory",
        InputFileKind.Missing => "missing",
        _ => "a regular file",
    };

    private static string LinkTarget(string path)
    {
        try { return new FileInfo(path).LinkTarget ?? "a missing file"; }
        catch (IOException) { return "a missing file"; }
    }

    private static List<string> Glob(string pattern)
    {
        string full = Path.GetFullPath(pattern.Replace("**", "\u0001").Replace("*", "\u0002").Replace("?", "\u0003"));
        full = full.Replace("\u0001", "**").Replace("\u0002", "*").Replace("\u0003", "?");
        int wild = full.IndexOfAny(['*', '?']);
        string root = full[..(full.LastIndexOf(Path.DirectorySeparatorChar, wild) + 1)];
        if (!Directory.Exists(root)) return [];
        var regex = new Regex("^" + Regex.Escape(full).Replace(@"\*\*/", "(.*/)?").Replace(@"\*\*", ".*").Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "$");
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(Path.GetFullPath).Where(f => regex.IsMatch(f)).Order(StringComparer.Ordinal).ToList();
    }

    private static class Native
    {
        [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
        public static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref byte status);

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat")]
        public static extern int LStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref byte status);
    }
}
