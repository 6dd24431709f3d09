// loom-run's hand-written argument reader: every mistake is one `error:` line naming the option and the
// value as typed, with exit 1 (as `loom`'s CommandGuard), and nothing reaches stdout.
namespace Loom.Run.Tests;

public class RunArgumentsTests
{
    [Fact]
    public void ReadsBothSpellingsAndNegativeNumbers()
    {
        var a = RunArguments.Parse("generate", ["--model", "m", "--top-k=5", "--seed", "-3", "--prompt", "-"], GenerateRun.Options);
        Assert.Equal("m", a.Required("--model"));
        Assert.Equal(5, a.Int("--top-k", 0));
        Assert.Equal(-3, a.Int("--seed", 0));
        Assert.Equal("-", a.Required("--prompt"));
        Assert.Equal(0.5f, a.Float("--temperature", 0.5f));
        Assert.False(a.Has("--threads"));
    }

    [Theory]
    [InlineData("unknown option --max-new-tokens for loom-run generate", "generate", "--model", "m", "--prompt", "p", "--max-new-tokens", "3")]
    [InlineData("--prompt is required for loom-run generate", "generate", "--model", "m")]
    [InlineData("--max-tokens is \"ten\"; it must be a whole number", "generate", "--model", "m", "--prompt", "p", "--max-tokens", "ten")]
    [InlineData("--temperature is \"0,7\"; it must be a number", "generate", "--model", "m", "--prompt", "p", "--temperature", "0,7")]
    [InlineData("--temperature must be a finite number ≥ 0", "generate", "--model", "m", "--prompt", "p", "--temperature", "-1")]
    [InlineData("--top-p must be in (0, 1]", "generate", "--model", "m", "--prompt", "p", "--top-p", "1.5")]
    [InlineData("--max-tokens must be ≥ 0; got -2", "generate", "--model", "m", "--prompt", "p", "--max-tokens", "-2")]
    [InlineData("--threads is 0; it must be at least 1", "generate", "--model", "m", "--prompt", "p", "--threads", "0")]
    [InlineData("--seed is given twice (\"1\" and \"2\")", "generate", "--model", "m", "--prompt", "p", "--seed", "1", "--seed=2")]
    [InlineData("--model needs a value", "generate", "--prompt", "p", "--model")]
    [InlineData("unexpected argument \"extra\" for loom-run generate", "generate", "extra")]
    [InlineData("--input is required for loom-run classify", "classify", "--model", "m")]
    [InlineData("unknown command \"train\"", "train")]
    [InlineData("no command given", new string[0])]
    public void BadInputIsOneErrorLineAndExit1(string expected, params string[] args)
    {
        var (code, output, error) = Runners.LoomRun(args);
        Assert.Equal(Program.InputError, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void AMissingModelOrInputNamesTheOption()
    {
        string dir = Runners.TempDir();
        var (code, _, error) = Runners.LoomRun("generate", "--model", Path.Combine(dir, "absent"), "--prompt", "hi");
        Assert.Equal(1, code);
        Assert.Contains("--model", error);
        Assert.Contains("does not exist", error);
        (code, _, error) = Runners.LoomRun("classify", "--model", dir, "--input", Path.Combine(dir, "absent.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("--input", error);
    }

    [Fact]
    public void HelpAndVersionPrintToStdoutAndExit0()
    {
        var (code, output, error) = Runners.LoomRun("--help");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("loom-run generate --model DIR|FILE.gguf --prompt TEXT", output);
        Assert.Contains("loom-run classify --model DIR --input FILE.jsonl", output);
        Assert.Equal(0, Runners.LoomRun("generate", "--help").Code);
        (code, output, _) = Runners.LoomRun("--version");
        Assert.Equal(0, code);
        Assert.StartsWith("loom-run ", output);
    }
}
