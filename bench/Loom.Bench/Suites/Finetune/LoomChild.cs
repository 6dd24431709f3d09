// Runs the built `loom` CLI as a child process for the finetune suite, as a user would run it: the command's
// whole wall time (start-up, data loading and tokenizing included) and, where GNU time exists
// (/usr/bin/time), the child's peak resident set size (max RSS, kernel-reported, in bytes). stdout and
// stderr go to a log file next to the run; a failing command is an error carrying the log's tail.
using System.Diagnostics;
using System.Globalization;

namespace Loom.Bench.Suites.Finetune;

internal static class LoomChild
{
    /// <summary>
    /// The `loom` program: LOOM_BENCH_LOOM, else the Release build of src/Loom.Cli (built with the bench,
    /// which references it without linking it).
    /// </summary>
    public static string Program()
    {
        if (Environment.GetEnvironmentVariable("LOOM_BENCH_LOOM") is { Length: > 0 } p) return p;
        string bin = Path.Combine(BenchPaths.RepoRoot, "src", "Loom.Cli", "bin", "Release", "net10.0");
        string apphost = Path.Combine(bin, "loom");
        if (File.Exists(apphost)) return apphost;
        throw new FileNotFoundException($"{apphost} does not exist; build it with `dotnet build src/Loom.Cli -c Release` or set LOOM_BENCH_LOOM to a loom executable.");
    }

    /// <summary>Runs `loom <paramref name="args"/>` with LOOM_THREADS = <paramref name="threads"/>; output to <paramref name="log"/>.</summary>
    public static LoomRun Run(IReadOnlyList<string> args, int threads, string log)
    {
        string loom = Program();
        string? gnuTime = File.Exists("/usr/bin/time") ? "/usr/bin/time" : null;
        string rssFile = log + ".maxrss";
        var psi = new ProcessStartInfo(gnuTime ?? loom) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = BenchPaths.RepoRoot };
        if (gnuTime != null)
        {
            // %M: the child's maximum resident set size in KiB (GNU time reads it from wait4's rusage).
            foreach (var a in new[] { "-f", "%M", "-o", rssFile, loom }) psi.ArgumentList.Add(a);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LOOM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        psi.Environment["NO_COLOR"] = "1";
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        Console.WriteLine($"  $ loom {string.Join(' ', args.Select(Quote))}");
        var clock = Stopwatch.StartNew();
        using (var writer = new StreamWriter(log))
        using (var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}"))
        {
            var gate = new object();
            void Copy(StreamReader r) { while (r.ReadLine() is { } line) lock (gate) writer.WriteLine(line); }
            var outTask = Task.Run(() => Copy(p.StandardOutput));
            var errTask = Task.Run(() => Copy(p.StandardError));
            p.WaitForExit();
            Task.WaitAll(outTask, errTask);
            double seconds = clock.Elapsed.TotalSeconds;
            writer.Flush();
            if (p.ExitCode != 0)
            {
                writer.Close();
                var tail = File.ReadLines(log).TakeLast(15);
                throw new InvalidOperationException($"loom {args[0]} exited {p.ExitCode} (log {log}):\n{string.Join('\n', tail)}");
            }
            long? rss = null;
            if (gnuTime != null && File.Exists(rssFile) &&
                long.TryParse(File.ReadLines(rssFile).LastOrDefault()?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long kib))
                rss = kib * 1024;
            Console.WriteLine($"    {seconds:F1} s{(rss is { } b ? $", max RSS {b / 1048576.0:F0} MiB" : "")}");
            return new LoomRun(seconds, rss);
        }
    }

    private static string Quote(string a) => a.Contains(' ') || a.Length == 0 ? $"'{a}'" : a;
}
