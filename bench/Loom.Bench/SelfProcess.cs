// Runs this benchmark program again as a child process with extra environment variables, for
// settings a process fixes when it starts: OpenBLAS's core type (read when the library loads)
// and the runtime's DOTNET_Enable* switches (read when the JIT starts), so one suite run can
// show AVX-512 and AVX2 figures side by side. The child gets the same suite, threads, seconds
// and filter, and LOOM_BENCH_CHILD set; it prints tab-separated lines the parent parses.
using System.Diagnostics;
using System.Globalization;

namespace Loom.Bench;

internal static class SelfProcess
{
    public const string ChildVariable = "LOOM_BENCH_CHILD";

    /// <summary>The role this process was started for by a parent suite, or null in the parent.</summary>
    public static string? ChildRole => Environment.GetEnvironmentVariable(ChildVariable) is { Length: > 0 } r ? r : null;

    /// <summary>Runs <paramref name="suite"/> in a child with <paramref name="environment"/>; returns its stdout lines split at tabs, or an error.</summary>
    public static (List<string[]> Lines, string? Error) Run(string suite, string role, BenchContext ctx, IReadOnlyDictionary<string, string> environment)
    {
        using var p = Process.Start(StartInfo(suite, role, ctx, environment, stdin: false)) ?? throw new InvalidOperationException($"could not start {Environment.ProcessPath}");
        var stderr = p.StandardError.ReadToEndAsync();
        var lines = new List<string[]>();
        while (p.StandardOutput.ReadLine() is { } line) lines.Add(line.Split('\t'));
        p.WaitForExit();
        return (lines, p.ExitCode == 0 ? null : $"child exited {p.ExitCode}: {stderr.Result.Trim()}");
    }

    /// <summary>
    /// Starts <paramref name="suite"/> in a child that keeps running and takes requests on its standard
    /// input (the gemm suite's anchor, asked for one case at a time); the caller owns the process.
    /// </summary>
    public static Process Start(string suite, string role, BenchContext ctx, IReadOnlyDictionary<string, string> environment) =>
        Process.Start(StartInfo(suite, role, ctx, environment, stdin: true)) ?? throw new InvalidOperationException($"could not start {Environment.ProcessPath}");

    private static ProcessStartInfo StartInfo(string suite, string role, BenchContext ctx, IReadOnlyDictionary<string, string> environment, bool stdin)
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        psi.ArgumentList.Add(suite);
        psi.ArgumentList.Add("--threads");
        psi.ArgumentList.Add(string.Join(',', ctx.Threads));
        psi.ArgumentList.Add("--seconds");
        psi.ArgumentList.Add(ctx.SecondsPerCase.ToString(CultureInfo.InvariantCulture));
        if (ctx.Filter is { } f) { psi.ArgumentList.Add("--filter"); psi.ArgumentList.Add(f); }
        if (ctx.CpuTime) psi.ArgumentList.Add("--cpu-time");
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        psi.Environment[ChildVariable] = role;
        return psi;
    }
}
