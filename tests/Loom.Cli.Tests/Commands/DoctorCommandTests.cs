
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
