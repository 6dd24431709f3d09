// The training-step anchors of the `train` suite, run as child processes the user built beforehand
// (the bench builds and installs nothing):
//   llm.c     LOOM_LLMC  = the run folder of ../shared/anchors/build-llmc.sh (train_gpt2_bench, gpt2_124M.bin,
//                          token shards), e.g. /tmp/anchors/llm.c. Run as the anchors README says:
//                          B, T, STEPS, VAL=0, GEN=0 and OMP_NUM_THREADS from the environment.
//   TorchSharp LOOM_PEERS = ../shared/anchors/peers/run.sh (run it once first: it builds and caches Peers),
//                          subcommand torchsharp-train; its last stdout line is a JSON object.
// Both report seconds per step with step 0 (first touch, allocation) dropped, median of the rest.
// Clocks: wall time by default; with --cpu-time, the child's CPU seconds per step ÷ threads, as Loom's
// rows. For llm.c the CPU time of a step is read from /proc between two consecutive "step N" lines
// (stdout line-buffered through stdbuf), so start-up and the 500 MB checkpoint load are not counted.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Loom.Bench.Anchors;

/// <summary>Seconds per step of an anchor, or why it did not run.</summary>
internal sealed record AnchorStep(string Name, double SecondsPerStep, string Clock, string? Error = null)
{
    public static AnchorStep Failed(string name, string error) => new(name, double.NaN, "", error);
}

internal static partial class TrainAnchors
{
    public static string? LlmcDir => Environment.GetEnvironmentVariable("LOOM_LLMC") is { Length: > 0 } d ? d : null;

    public static string? Peers => Environment.GetEnvironmentVariable("LOOM_PEERS") is { Length: > 0 } p ? p : null;

    [GeneratedRegex(@"^step (\d+): train loss ([0-9.naif+-]+) \(took ([0-9.]+) ms\)")]
    private static partial Regex LlmcStepLine();

    /// <summary>llm.c's train_gpt2_bench at (B, T, threads): the median of steps 1..steps.</summary>
    public static AnchorStep RunLlmc(string dir, int b, int t, int threads, int steps, bool cpuTime)
    {
        const string name = "llm.c -march=native";
        string exe = Path.Combine(dir, "train_gpt2_bench");
        if (!File.Exists(exe)) return AnchorStep.Failed(name, $"LOOM_LLMC={dir} has no train_gpt2_bench; build it with ../shared/anchors/build-llmc.sh <llm.c source> {dir}");
        string? stdbuf = File.Exists("/usr/bin/stdbuf") ? "/usr/bin/stdbuf" : null;
        if (cpuTime && stdbuf is null) return AnchorStep.Failed(name, "--cpu-time needs /usr/bin/stdbuf (coreutils) to read llm.c's per-step lines as they come");
        var psi = new ProcessStartInfo(stdbuf ?? exe) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (stdbuf is not null) { psi.ArgumentList.Add("-oL"); psi.ArgumentList.Add(exe); }
        psi.Environment["B"] = b.ToString(CultureInfo.InvariantCulture);
        psi.Environment["T"] = t.ToString(CultureInfo.InvariantCulture);
        psi.Environment["STEPS"] = (steps + 1).ToString(CultureInfo.InvariantCulture);
        psi.Environment["VAL"] = "0";
        psi.Environment["GEN"] = "0";
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        using var p = Process.Start(psi);
        if (p is null) return AnchorStep.Failed(name, $"could not start {exe}");
        var stderr = p.StandardError.ReadToEndAsync();
        var wall = new List<double>();
        var cpu = new List<double>();
        double lastCpu = double.NaN;
        while (p.StandardOutput.ReadLine() is { } line)
        {
            var m = LlmcStepLine().Match(line);
            if (!m.Success) continue;
            double now = p.HasExited ? double.NaN : p.TotalProcessorTime.TotalSeconds;
            int step = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (step >= 1)
            {
                wall.Add(double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) / 1e3);
                cpu.Add(now - lastCpu);
            }
            lastCpu = now;
        }
        p.WaitForExit();
        if (p.ExitCode != 0) return AnchorStep.Failed(name, $"train_gpt2_bench exited {p.ExitCode}: {Tail(stderr.Result)}");
        if (wall.Count == 0) return AnchorStep.Failed(name, "train_gpt2_bench printed no timed step (step ≥ 1)");
        if (!cpuTime) return new AnchorStep(name, Median(wall), "wall");
        var valid = cpu.Where(c => !double.IsNaN(c) && c > 0).ToList();
        return valid.Count == 0 ? AnchorStep.Failed(name, "could not read the child's CPU time between step lines")
            : new AnchorStep(name, Median(valid) / threads, "CPU time");
    }

    /// <summary>TorchSharp-cpu's GPT-2 step (peers torchsharp-train) at (B, T, threads).</summary>
    public static AnchorStep RunTorchSharp(string peers, int b, int t, int threads, int steps, bool cpuTime)
    {
        const string name = "TorchSharp-cpu 0.107";
        if (!File.Exists(peers)) return AnchorStep.Failed(name, $"LOOM_PEERS={peers} does not exist; point it at ../shared/anchors/peers/run.sh (run it once first so it is built)");
        var psi = new ProcessStartInfo(peers) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "torchsharp-train", "-B", $"{b}", "-T", $"{t}", "--steps", $"{steps + 1}", "--threads", $"{threads}" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi);
        if (p is null) return AnchorStep.Failed(name, $"could not start {peers}");
        var stderr = p.StandardError.ReadToEndAsync();
        string? last = null;
        while (p.StandardOutput.ReadLine() is { } line) if (line.TrimStart().StartsWith('{')) last = line;
        p.WaitForExit();
        if (last is null) return AnchorStep.Failed(name, $"no JSON line (exit {p.ExitCode}): {Tail(stderr.Result)}");
        using var doc = JsonDocument.Parse(last);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var err)) return AnchorStep.Failed(name, err.ToString());
        return cpuTime
            ? new AnchorStep(name, root.GetProperty("cpu_s_per_step_median").GetDouble() / threads, "CPU time")
            : new AnchorStep(name, root.GetProperty("s_per_step_median").GetDouble(), "wall");
    }

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs[xs.Count / 2];
    }

    private static string Tail(string s)
    {
        s = s.Trim();
        return s.Length <= 400 ? s : "…" + s[^400..];
    }
}
