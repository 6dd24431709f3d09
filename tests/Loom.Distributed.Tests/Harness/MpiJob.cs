using System.Diagnostics;

namespace Loom.Distributed.Tests.Harness;

/// <summary>Starts this test assembly's worker under mpirun (or alone) and collects what it printed.</summary>
public static class MpiJob
{
    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed, bool TimedOut);

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p : "dotnet";
    private static string Assembly => typeof(Program).Assembly.Location;

    /// <summary>Runs the worker with <paramref name="args"/> on <paramref name="ranks"/> ranks (0: a plain process, no launcher), one thread each.</summary>
    public static Result Run(int ranks, IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks > 0)
        {
            start.FileName = "mpirun";
            // 2 cores shared by several jobs: oversubscribe, no binding, one compute thread per rank.
            foreach (var a in new[] { "-np", ranks.ToString(), "--oversubscribe", "--bind-to", "none", "-x", "LOOM_THREADS=1", Dotnet, Assembly, "worker" }) start.ArgumentList.Add(a);
        }
        else
        {
            start.FileName = Dotnet;
            foreach (var a in new[] { Assembly, "worker" }) start.ArgumentList.Add(a);
        }
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["LOOM_THREADS"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";   // containers often forbid CMA (ptrace)
        var clock = Stopwatch.StartNew();
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e) when (ranks > 0)
        {
            throw new InvalidOperationException("mpirun is not installed; the distributed tests need OpenMPI: apt-get install openmpi-bin libopenmpi-dev (.ci/run does it).", e);
        }
        using (process)
        {
            var output = new System.Text.StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            bool done = process.WaitForExit(timeout);
            if (!done) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) return new Result(done ? process.ExitCode : -1, output.ToString(), clock.Elapsed, !done);
        }
    }
}
