// Locations and child processes for suites that read shared data or run anchors.
using System.Diagnostics;

namespace Loom.Bench;

internal static class BenchPaths
{
    public static string RepoRoot { get; } = Find();

    private static string Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Loom.sln"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }

    public static string? Which(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string p = Path.Combine(dir, program);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    public static (int Code, string Stdout, string Stderr) Exec(string program, string arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { p.Kill(true); return (-1, "", $"{program} timed out after {timeout}"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
