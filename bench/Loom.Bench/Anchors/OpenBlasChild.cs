// Runs the gemm suite's OpenBLAS anchor in a child process with OPENBLAS_CORETYPE set, because
// OpenBLAS reads the variable once when it loads (the environment here sets Haswell, which
// forces its AVX2 kernels on an AVX-512 CPU). The child is this same benchmark program with
// LOOM_BENCH_OPENBLAS_CHILD set; it times OpenBLAS on every selected case (after checking it
// against Loom) and prints tab-separated lines the parent reads:
//   corename<TAB>SkylakeX
//   anchor<TAB><case name><TAB><GFLOP/s>
using System.Diagnostics;
using System.Globalization;

namespace Loom.Bench.Anchors;

/// <summary>OpenBLAS anchor figures measured in a child process under one core type.</summary>
internal sealed record OpenBlasChildResult(string CoreType, string? CoreName, IReadOnlyDictionary<string, double> GflopsByCase, string? Error);

internal static class OpenBlasChild
{
    public const string ChildVariable = "LOOM_BENCH_OPENBLAS_CHILD";

    /// <summary>True in the child process.</summary>
    public static bool IsChild => Environment.GetEnvironmentVariable(ChildVariable) is { Length: > 0 };

    /// <summary>Runs the suite's anchor half under <paramref name="coreType"/> and collects its rates.</summary>
    public static OpenBlasChildResult Run(string coreType, BenchContext ctx)
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(OpenBlasChild).Assembly.Location);
        psi.ArgumentList.Add("gemm");
        psi.ArgumentList.Add("--threads");
        psi.ArgumentList.Add(string.Join(',', ctx.Threads));
        psi.ArgumentList.Add("--seconds");
        psi.ArgumentList.Add(ctx.SecondsPerCase.ToString(CultureInfo.InvariantCulture));
        if (ctx.Filter is { } f) { psi.ArgumentList.Add("--filter"); psi.ArgumentList.Add(f); }
        psi.Environment["OPENBLAS_CORETYPE"] = coreType;
        psi.Environment[ChildVariable] = coreType;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var stderr = p.StandardError.ReadToEndAsync();
        var rates = new Dictionary<string, double>();
        string? coreName = null;
        while (p.StandardOutput.ReadLine() is { } line)
        {
            var parts = line.Split('\t');
            if (parts is ["corename", var name]) coreName = name;
            else if (parts is ["anchor", var caseName, var rate]) rates[caseName] = double.Parse(rate, CultureInfo.InvariantCulture);
        }
        p.WaitForExit();
        string? error = p.ExitCode == 0 ? null : $"child exited {p.ExitCode}: {stderr.Result.Trim()}";
        return new OpenBlasChildResult(coreType, coreName, rates, error);
    }
}
