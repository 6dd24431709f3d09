// `loom doctor`: what the machine offers Loom: the SIMD paths the kernels take, the measured FMA
// peak of each vector width (the honest 100% for MFU), and the measured GEMM rate of the selected
// micro-kernel as a share of the widest peak.
using System.CommandLine;
using Loom.Core.Diagnostics;
using Loom.Core.Threading;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class DoctorCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var seconds = new Option<double>("--seconds")
        {
            Description = "How long to time the GEMM, in seconds.",
            DefaultValueFactory = _ => 1.0,
        };
        var size = new Option<int>("--size")
        {
            Description = "Side of the square matrices multiplied (m = n = k).",
            DefaultValueFactory = _ => 1024,
        };
        var threads = new Option<int?>("--threads")
        {
            Description = "Threads for the GEMM (default: LOOM_THREADS or one per core).",
        };
        var command = new Command("doctor", "Print the runtime, cores, SIMD support, the FMA peak of each vector width and a measured GEMM GFLOP/s.")
        {
            seconds, size, threads,
        };
        command.SetAction(parse =>
        {
            double s = parse.GetValue(seconds);
            int n = parse.GetValue(size);
            int? t = parse.GetValue(threads);
            if (!(s > 0 && s <= 600)) throw new ArgumentException($"--seconds must be more than 0 and at most 600; got {s}.");
            if (n < 16 || n > 8192) throw new ArgumentException($"--size must be from 16 to 8192; got {n}.");
            if (t is < 1 or > 1024) throw new ArgumentException($"--threads must be from 1 to 1024; got {t}.");
            using var own = t is { } count ? new WorkerPool(count) : null;
            return Run(console, s, n, own ?? WorkerPool.Shared);
        });
        return command;
    }

    private static int Run(IAnsiConsole console, double seconds, int size, WorkerPool pool)
    {
        var r = MachineReport.Current(pool);
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]loom doctor[/]");
        table.AddColumn("check");
        table.AddColumn("value");
        table.AddRow("runtime", Markup.Escape(r.Runtime));
        table.AddRow("os", Markup.Escape($"{r.OperatingSystem} ({r.Architecture})"));
        table.AddRow("cores", $"{r.LogicalCores} logical; worker pool {r.PoolThreads} threads");
        table.AddRow("simd", $"Vector512 {YesNo(r.Vector512Accelerated)}, Vector256 {YesNo(r.Vector256Accelerated)}, Vector128 {YesNo(r.Vector128Accelerated)}, AVX2 {YesNo(r.Avx2)}, FMA {YesNo(r.Fma)}, AVX-512F {YesNo(r.Avx512F)}");
        table.AddRow("Vector<float>", $"{r.VectorFloatWidth} lanes");
        table.AddRow("gemm kernel", $"[bold]{Markup.Escape(r.GemmKernel)}[/] (selected: {r.GemmPath})");

        var peaks = new List<FmaPeakMeasurement>();
        GemmMeasurement m = null!;
        console.Status().Start($"measuring FMA peaks and timing {size}×{size}×{size} SGEMM for {seconds:0.#} s…", _ =>
        {
            foreach (int bits in FmaPeak.AvailableWidths())
                peaks.Add(FmaPeak.Measure(bits, Math.Min(seconds, 0.5), pool));
            m = GemmProbe.Measure(seconds, size, pool);
        });
        if (peaks.Count == 0) table.AddRow("fma peak", "[grey]no hardware FMA[/]");
        foreach (var p in peaks)
            table.AddRow($"fma peak {p.Bits}-bit", $"{p.GflopsPerSecond:F1} GFLOP/s ({Markup.Escape(p.Isa)}, {p.Threads} threads)");
        string share = peaks.Count == 0 ? "" : $", {100 * m.GflopsPerSecond / peaks[^1].GflopsPerSecond:F0}% of the {peaks[^1].Bits}-bit peak";
        table.AddRow("gemm", $"[bold]{m.GflopsPerSecond:F1} GFLOP/s[/] ({size}³, {m.Threads} threads, {m.Calls} calls in {m.Seconds:F2} s, {m.Path} kernel{share})");
        table.AddRow("gemm check", m.MaxAbsError < 1e-3 ? $"[green]ok[/] (max |error| {m.MaxAbsError:E1} vs double)" : $"[red]FAILED[/] (max |error| {m.MaxAbsError:E1})");
        console.Write(table);
        return m.MaxAbsError < 1e-3 ? 0 : 1;
    }


    private static string YesNo(bool b) => b ? "[green]yes[/]" : "[grey]no[/]";
}
