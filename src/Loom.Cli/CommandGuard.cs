// The one error guard every `loom` command runs under (installed on the whole tree by LoomCommand).
// Expected errors — bad input a user can fix: a missing file, a bad value, a malformed file, a full
// disk — print one red line saying what is wrong and what to do, and exit 1. Anything else is a bug:
// it prints a short message and the path of a crash log holding the stack trace, and exits 70
// (EX_SOFTWARE), so a .NET stack trace never reaches the terminal.
using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text.Json;
using Spectre.Console;

namespace Loom.Cli;

/// <summary>Runs command bodies so that no exception escapes as a raw stack trace.</summary>
public static class CommandGuard
{
    /// <summary>Exit code for bad input the user can fix.</summary>
    public const int InputError = 1;
    /// <summary>Exit code for an unexpected error (a bug), as sysexits' EX_SOFTWARE.</summary>
    public const int InternalError = 70;
    /// <summary>Exit code after Ctrl+C, as shells report SIGINT.</summary>
    public const int Cancelled = 130;

    /// <summary>Runs <paramref name="body"/>; expected errors become one line and exit 1, others a crash log and exit 70.</summary>
    public static int Run(IAnsiConsole console, Func<int> body)
    {
        try { return body(); }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            if (inner is OperationCanceledException)
            {
                // A command that knows where it stopped says so (finetune: "interrupted at step N; ... --resume").
                console.MarkupLine(inner.Message.StartsWith("interrupted", StringComparison.Ordinal) ? $"[yellow]{Markup.Escape(inner.Message)}[/]" : "[yellow]cancelled.[/]");
                return Cancelled;
            }
            if (IsExpected(inner))
            {
                console.MarkupLine($"[red]error:[/] {Markup.Escape(Describe(inner))}");
                return InputError;
            }
            string log = WriteCrashLog(e);
            console.MarkupLine($"[red]internal error:[/] {Markup.Escape($"{inner.GetType().Name}: {inner.Message}")}");
            console.MarkupLine($"This is a bug in Loom, not in your input. The details are in {Markup.Escape(log)}; please attach that file to a report.");
            return InternalError;
        }
    }

    /// <summary>Wraps the action of <paramref name="command"/> and of every subcommand below it.</summary>
    public static void Install(Command command, IAnsiConsole console)
    {
        if (command.Action is SynchronousCommandLineAction inner and not GuardedAction)
            command.Action = new GuardedAction(inner, console);
        foreach (var sub in command.Subcommands) Install(sub, console);
    }

    /// <summary>True for the exception types that mean "the input or the environment is wrong", not "Loom is wrong".</summary>
    public static bool IsExpected(Exception e) => e is FormatException or InvalidDataException or ArgumentException or FileNotFoundException
        or DirectoryNotFoundException or NotSupportedException or KeyNotFoundException or JsonException or UnauthorizedAccessException
        or IOException or OutOfMemoryException or InvalidOperationException or PathTooLongException;

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else if (e is System.Reflection.TargetInvocationException { InnerException: { } t }) e = t;
            else if (e is TypeInitializationException { InnerException: { } ti }) e = ti;
            else return e;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        OutOfMemoryException => "out of memory. Reduce the batch size, the sequence length or the vocabulary, or free memory, and try again.",
        UnauthorizedAccessException => $"{e.Message} Check the permissions of that path.",
        ArgumentException a => WithoutParameterName(a),
        _ => e.Message,
    };

    // .NET appends " (Parameter 'name')" (and, out of range, "Actual value was …") to an ArgumentException's
    // message: the name of a C# parameter or property, not of anything the user typed. The message itself
    // already names the option or field as the user wrote it.
    private static string WithoutParameterName(ArgumentException e)
    {
        string m = e.Message;
        if (e is ArgumentOutOfRangeException { ActualValue: { } actual })
        {
            string tail = Environment.NewLine + "Actual value was " + actual + ".";
            if (m.EndsWith(tail, StringComparison.Ordinal)) m = m[..^tail.Length];
        }
        if (e.ParamName is { } p && m.EndsWith($" (Parameter '{p}')", StringComparison.Ordinal)) m = m[..^$" (Parameter '{p}')".Length];
        return m;
    }

    private static string WriteCrashLog(Exception e)
    {
        string dir = Environment.GetEnvironmentVariable("LOOM_CRASH_DIR") is { Length: > 0 } d ? d : Path.Combine(Path.GetTempPath(), "loom-crash");
        try
        {
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, $"crash-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
            File.WriteAllText(path, $"loom {typeof(CommandGuard).Assembly.GetName().Version}\n{Environment.CommandLine}\n{DateTime.UtcNow:O}\n" +
                                    $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} on {System.Runtime.InteropServices.RuntimeInformation.OSDescription}\n\n{e}\n");
            return path;
        }
        catch (Exception io) when (io is IOException or UnauthorizedAccessException)
        {
            return $"(no crash log could be written to {dir}: {io.Message})";
        }
    }

    private sealed class GuardedAction(SynchronousCommandLineAction inner, IAnsiConsole console) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult) => Run(console, () => inner.Invoke(parseResult));
    }
}
