using Spectre.Console;

namespace Loom.Run.Tests;

/// <summary>Runs `loom-run` and `loom` in-process and captures what each prints.</summary>
internal static class Runners
{
    /// <summary>`loom-run args...`: exit code, stdout, stderr.</summary>
    public static (int Code, string Output, string Error) LoomRun(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>`loom args...` (the reference): exit code, data output, console text.</summary>
    public static (int Code, string Output, string Console) Loom(params string[] args)
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
        int code = Cli.LoomCommand.Create(console).Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString(), consoleWriter.ToString());
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-run-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The shipped tiny GPT-2 directory.</summary>
    public static string TinyGpt2 => Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2_tiny");
}
