// Runs the gemm suite's OpenBLAS anchor in a child process with OPENBLAS_CORETYPE set, because
// OpenBLAS reads the variable once when it loads (the environment here sets Haswell, which
// forces its AVX2 kernels on an AVX-512 CPU). The child is this same benchmark program with
// LOOM_BENCH_CHILD=openblas (SelfProcess); it times OpenBLAS on every selected case (after checking it
// against Loom) and prints tab-separated lines the parent reads:
//   corename<TAB>SkylakeX
//   anchor<TAB><case name><TAB><GFLOP/s>
using System.Globalization;

namespace Loom.Bench.Anchors;

/// <summary>OpenBLAS anchor figures measured in a child process under one core type.</summary>
internal sealed record OpenBlasChildResult(string CoreType, string? CoreName, IReadOnlyDictionary<string, double> GflopsByCase, string? Error);

internal static class OpenBlasChild
{
    /// <summary>True in the child process.</summary>
    public static bool IsChild => SelfProcess.ChildRole == "openblas";

    /// <summary>Runs the suite's anchor half under <paramref name="coreType"/> and collects its rates.</summary>
    public static OpenBlasChildResult Run(string coreType, BenchContext ctx)
    {
        var (lines, error) = SelfProcess.Run("gemm", "openblas", ctx, new Dictionary<string, string> { ["OPENBLAS_CORETYPE"] = coreType });
        var rates = new Dictionary<string, double>();
        string? coreName = null;
        foreach (var parts in lines)
        {
            if (parts is ["corename", var name]) coreName = name;
            else if (parts is ["anchor", var caseName, var rate]) rates[caseName] = double.Parse(rate, CultureInfo.InvariantCulture);
        }
        return new OpenBlasChildResult(coreType, coreName, rates, error);
    }
}
