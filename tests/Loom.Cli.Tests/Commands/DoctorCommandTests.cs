
namespace Loom.Cli.Tests.Commands;

public class DoctorCommandTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var (code, output, console) = CliRunner.Run(args);
        return (code, output + console);
    }

    [Fact]
    public void DoctorPrintsMachineFactsAndAMeasuredRate()
    {
        var (code, output) = Run("doctor", "--seconds", "0.2", "--size", "128", "--threads", "2");
        Assert.Equal(0, code);
        Assert.Contains("cores", output);
        Assert.Contains("GFLOP/s", output);
        Assert.Contains("gemm check", output);
        Assert.Contains("ok", output);
        Assert.Matches(@"\d+\.\d GFLOP/s", output);
        // Honest peaks: one FMA peak per width this CPU has, and which GEMM kernel is selected.
        foreach (int bits in Loom.Core.Diagnostics.FmaPeak.AvailableWidths())
            Assert.Matches($@"fma peak {bits}-bit\s*│?\s*\d+\.\d GFLOP/s", output);
        Assert.Contains(Loom.Core.Kernels.Gemm.Describe(Loom.Core.Kernels.Gemm.SelectedPath), output);
        if (Loom.Core.Diagnostics.FmaPeak.AvailableWidths().Count > 0) Assert.Matches(@"\d+% of the \d+-bit peak", output);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var (code, output) = Run("doctor", "--seconds", "-1");
        Assert.NotEqual(0, code);
        Assert.Contains("--seconds", output);
        (code, _) = Run("no-such-command");
        Assert.NotEqual(0, code);
    }
}
