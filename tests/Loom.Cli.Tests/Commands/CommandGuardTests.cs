using Spectre.Console;
using Xunit;

namespace Loom.Cli.Tests.Commands;

public class CommandGuardTests
{
    private static (int Code, string Text) Guard(Func<int> body)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 400;
        int code = CommandGuard.Run(console, body);
        return (code, writer.ToString());
    }

    [Fact]
    public void ExpectedErrorIsOneLineWithMarkupCharactersEscaped()
    {
        var (code, text) = Guard(() => throw new ArgumentException("--minutes must be in (0, 600]; got [red]"));
        Assert.Equal(CommandGuard.InputError, code);
        Assert.Equal("error: --minutes must be in (0, 600]; got [red]", text.Trim());
    }

    [Fact]
    public void UnexpectedErrorWritesACrashLogAndNoStackTrace()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-crash-test-" + Guid.NewGuid().ToString("N"));
        Environment.SetEnvironmentVariable("LOOM_CRASH_DIR", dir);
        try
        {
            var (code, text) = Guard(() => throw new NullReferenceException("boom"));
            Assert.Equal(CommandGuard.InternalError, code);
            Assert.DoesNotContain("   at ", text);
            Assert.Contains("NullReferenceException: boom", text);
            string log = Assert.Single(Directory.GetFiles(dir));
            Assert.Contains(log, text.Replace("\n", ""));
            Assert.Contains("   at ", File.ReadAllText(log));
        }
        finally
        {
            Environment.SetEnvironmentVariable("LOOM_CRASH_DIR", null);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void SingleInnerAggregateIsUnwrapped()
    {
        var (code, text) = Guard(() => throw new AggregateException(new InvalidDataException("shard.bin: bad magic")));
        Assert.Equal(CommandGuard.InputError, code);
        Assert.Equal("error: shard.bin: bad magic", text.Trim());
    }

    [Fact]
    public void EveryCommandInTheTreeIsGuarded()
    {
        // A quickstart error that once crashed Spectre's markup parser ("(0, 600]") is now one line, exit 1.
        var (code, _, console) = CliRunner.Run("quickstart", "--minutes", "0");
        Assert.Equal(1, code);
        Assert.Contains("--minutes must be more than 0 and at most 600; got 0", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void DotNetsParameterNameAndActualValueAreLeftOut()
    {
        // Regression: an id beyond the embedding table in eval printed "... (Parameter 'ids') Actual value was 99.",
        // naming a C# parameter the user never wrote.
        var (code, text) = Guard(() => throw new ArgumentOutOfRangeException("ids", 99, "Token id at position 3 is 99, outside the table's 50 rows."));
        Assert.Equal(CommandGuard.InputError, code);
        Assert.Equal("error: Token id at position 3 is 99, outside the table's 50 rows.", text.Trim());
        (code, text) = Guard(() => throw new ArgumentException("--stop must not contain an empty string.", "StopSequences"));
        Assert.Equal("error: --stop must not contain an empty string.", text.Trim());
    }
}
