// loom-run: the small edge runner of issue 15 §7 — generate and classify from a (quantized) model, built
// NativeAOT, self-contained, trimmed, single file (docs/EDGE.md). It references the model libraries only
// (no System.CommandLine, Spectre.Console, ASP.NET or YamlDotNet code is reachable), reads its few
// arguments by hand (RunArguments) and reports as `loom` does: bad input is one `error:` line on stderr
// and exit 1, a bug a crash log and exit 70, Ctrl+C exit 130.
using System.Reflection;

namespace Loom.Run;

/// <summary>Entry point of <c>loom-run</c>.</summary>
public static class Program
{
    /// <summary>Exit code for bad input the user can fix (as <c>loom</c>).</summary>
    public const int InputError = 1;
    /// <summary>Exit code for a bug (sysexits' EX_SOFTWARE, as <c>loom</c>).</summary>
    public const int InternalError = 70;
    /// <summary>Exit code after Ctrl+C.</summary>
    public const int Cancelled = 130;

    /// <summary>The usage text --help prints.</summary>
    public const string Usage = """
        loom-run: generate and classify with Loom models (NativeAOT edge runner)

        usage:
          loom-run generate --model DIR|FILE.gguf --prompt TEXT [--max-tokens 64] [--temperature 0] [--top-k 0] [--top-p 1] [--seed 0] [--threads N]
              streams the continuation of TEXT to stdout; --temperature 0 is greedy. DIR is a Hugging Face GPT-2/Llama
              directory, a `loom quantize` directory (q8_0, q4_0, q4_k, q6_k, nf4) or a low-rank one; FILE.gguf a GGUF v3 file.
          loom-run classify --model DIR --input FILE.jsonl [--field text] [--threads N]
              one JSON line per input line, as `loom classify` prints them, from a `loom finetune` classifier directory.
          loom-run --help | --version

        exit codes: 0 done, 1 bad input (one `error:` line), 70 internal error (crash log), 130 interrupted.
        """;

    /// <summary>Runs loom-run on the process's console.</summary>
    public static int Main(string[] args)
    {
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C ends the process with 130 as shells expect; nothing is left half-written (output is streamed text).
            e.Cancel = false;
            Environment.ExitCode = Cancelled;
        };
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = false };
        try { return Run(args, stdout, Console.Error); }
        finally { stdout.Flush(); }
    }

    /// <summary>Runs loom-run with <paramref name="args"/>, writing results to <paramref name="stdout"/> and errors to <paramref name="stderr"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0)
            {
                stderr.WriteLine("error: no command given; use loom-run generate or loom-run classify (see loom-run --help).");
                return InputError;
            }
            switch (args[0])
            {
                case "--help" or "-h" or "help":
                    stdout.WriteLine(Usage);
                    return 0;
                case "--version":
                    stdout.WriteLine($"loom-run {Version}");
                    return 0;
                case "generate":
                    if (args.Skip(1).Any(x => x is "--help" or "-h")) { stdout.WriteLine(Usage); return 0; }
                    return GenerateRun.Run(args.AsSpan(1), stdout);
                case "classify":
                    if (args.Skip(1).Any(x => x is "--help" or "-h")) { stdout.WriteLine(Usage); return 0; }
                    return ClassifyRun.Run(args.AsSpan(1), stdout, stderr);
                default:
                    stderr.WriteLine($"error: unknown command \"{args[0]}\"; use loom-run generate or loom-run classify (see loom-run --help).");
                    return InputError;
            }
        }
        catch (Exception e)
        {
            stdout.Flush();
            var inner = Unwrap(e);
            if (inner is OperationCanceledException) { stderr.WriteLine("cancelled."); return Cancelled; }
            if (IsExpected(inner))
            {
                stderr.WriteLine($"error: {Describe(inner)}");
                return InputError;
            }
            stderr.WriteLine($"internal error: {inner.GetType().Name}: {inner.Message}");
            stderr.WriteLine($"This is a bug in Loom, not in your input. The details are in {WriteCrashLog(e)}; please attach that file to a report.");
            return InternalError;
        }
    }

    /// <summary>The informational version of this build.</summary>
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Program).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    // The same classes `loom`'s CommandGuard treats as the user's to fix (src/Loom.Cli/CommandGuard.cs).
    private static bool IsExpected(Exception e) => e is FormatException or InvalidDataException or ArgumentException or FileNotFoundException
        or DirectoryNotFoundException or NotSupportedException or KeyNotFoundException or System.Text.Json.JsonException or UnauthorizedAccessException
        or IOException or OutOfMemoryException or InvalidOperationException or PathTooLongException;

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else if (e is TargetInvocationException { InnerException: { } t }) e = t;
            else if (e is TypeInitializationException { InnerException: { } ti }) e = ti;
            else return e;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        OutOfMemoryException => "out of memory. Use a smaller or more quantized model, or free memory, and try again.",
        UnauthorizedAccessException => $"{e.Message} Check the permissions of that path.",
        ArgumentException a when a.ParamName is { } p && a.Message.EndsWith($" (Parameter '{p}')", StringComparison.Ordinal) => a.Message[..^$" (Parameter '{p}')".Length],
        _ => e.Message,
    };

    private static string WriteCrashLog(Exception e)
    {
        string dir = Environment.GetEnvironmentVariable("LOOM_CRASH_DIR") is { Length: > 0 } d ? d : Path.Combine(Path.GetTempPath(), "loom-crash");
        try
        {
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, $"crash-loom-run-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
            File.WriteAllText(path, $"loom-run {Version}\n{Environment.CommandLine}\n{DateTime.UtcNow:O}\n" +
                                    $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} on {System.Runtime.InteropServices.RuntimeInformation.OSDescription}\n\n{e}\n");
            return path;
        }
        catch (Exception io) when (io is IOException or UnauthorizedAccessException)
        {
            return $"(no crash log could be written to {dir}: {io.Message})";
        }
    }
}
