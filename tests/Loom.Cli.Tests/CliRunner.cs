using Spectre.Console;

namespace Loom.Cli.Tests;

internal static class CliRunner
{
    /// <summary>Runs `loom args...` in-process; returns the exit code, the data output and the console text.</summary>
    public static (int Code, string Output, string Console) Run(params string[] args)
    {
        var consoleWriter = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(consoleWriter),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        var output = new StringWriter();
        var root = LoomCommand.Create(console);
        int code = root.Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString(), consoleWriter.ToString());
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
