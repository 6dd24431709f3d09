// The two llama.cpp anchors of the decode suites (issue 15 §6, issue 13 §4), run as child processes on the
// same GGUF file Loom decodes, at the same thread count:
//   llama.cpp   LOOM_LLAMA_BENCH = path of llama-bench (../shared/anchors/build-llamacpp.sh builds it)
//   LLamaSharp  LOOM_PEERS = path of ../shared/anchors/peers/run.sh (its `llamasharp-decode`: LLamaSharp 0.30.0 +
//               LLamaSharp.Backend.Cpu, its own bundled llama.cpp, greedy decode one token per llama_decode)
// Both report wall-clock rates, which on a shared machine count time spent descheduled. So each is also timed
// by CPU time: llama-bench runs twice, with 1 and 3 repetitions, and the difference of the child's CPU time
// (user + system of all its threads, from bash's `times` after it exits: .NET's TotalProcessorTime reads /proc,
// which is gone once the child has exited) over the 2 extra repetitions is the CPU time of one — model
// load, repacking and llama-bench's warm-up run cancel out; LLamaSharp's harness reports the CPU seconds of its
// decode and prefill loops itself. A CPU-time rate is tokens ÷ (CPU seconds ÷ threads), as BenchContext.Now
// times Loom under --cpu-time (exact for 1 thread; spin-waits count for more).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Loom.Bench.Anchors;

/// <summary>A peer's rate measured both ways (tokens/s).</summary>
internal sealed record AnchorRate(double Wall, double Cpu)
{
    /// <summary>The rate on the clock the suite uses.</summary>
    public double On(BenchContext ctx) => ctx.CpuTime ? Cpu : Wall;
}

internal static class LlamaAnchors
{
    /// <summary>llama-bench's path, or null when LOOM_LLAMA_BENCH does not name a file.</summary>
    public static string? LlamaBenchPath => Environment.GetEnvironmentVariable("LOOM_LLAMA_BENCH") is { Length: > 0 } p && File.Exists(p) ? p : null;

    /// <summary>The folder of the anchors' GGUF files and ggml-vocab-gpt-2.gguf.</summary>
    public static string ModelsDirectory => Environment.GetEnvironmentVariable("LOOM_LLAMA_MODELS")
        ?? Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") ?? "/tmp", "anchors", "llama.cpp", "models");

    /// <summary>The peers harness (run.sh), or null when LOOM_PEERS does not name a file.</summary>
    public static string? PeersPath => Environment.GetEnvironmentVariable("LOOM_PEERS") is { Length: > 0 } p && File.Exists(p) ? p : null;

    /// <summary>
    /// llama-bench's rate on <paramref name="gguf"/>: tg<paramref name="tokens"/> when <paramref name="prompt"/> is 0,
    /// else pp<paramref name="prompt"/>; null when llama-bench is not configured or fails (the reason printed).
    /// </summary>
    public static AnchorRate? LlamaBench(string gguf, int threads, int prompt, int tokens)
    {
        if (LlamaBenchPath is not { } bench) return null;
        var one = Run(bench, gguf, threads, prompt, tokens, 1);
        var three = Run(bench, gguf, threads, prompt, tokens, 3);
        if (one is null || three is null) return null;
        int n = prompt > 0 ? prompt : tokens;
        double cpuPerRep = (three.Value.Cpu - one.Value.Cpu) / 2;
        return new AnchorRate(three.Value.WallRate, cpuPerRep > 0 ? n / (cpuPerRep / threads) : double.NaN);
    }

    private static (double WallRate, double Cpu)? Run(string bench, string gguf, int threads, int prompt, int tokens, int reps)
    {
        // bash runs llama-bench, then prints its children's user and system time (`times`, second line) to stderr.
        var psi = new ProcessStartInfo("bash", ["-c", "\"$0\" \"$@\"; rc=$?; times >&2; exit $rc", bench,
            "-m", gguf, "-p", prompt.ToString(), "-n", (prompt > 0 ? 0 : tokens).ToString(), "-t", threads.ToString(), "-r", reps.ToString(), "-o", "json"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string stderr = err.Result;
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"llama-bench failed on {gguf} (exit {p.ExitCode}): {stderr.TrimEnd().Split('\n').Reverse().Skip(2).FirstOrDefault()}; row without llama.cpp anchor.");
            return null;
        }
        // "0m12.345s 0m0.678s": the children's user and system time.
        var parts = LastLine(stderr).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double cpu = parts.Sum(Seconds);
        foreach (var row in JsonDocument.Parse(json).RootElement.EnumerateArray())
            return (row.GetProperty("avg_ts").GetDouble(), cpu);
        return null;
    }

    private static double Seconds(string t)
    {
        int m = t.IndexOf('m');
        return double.Parse(t[..m], CultureInfo.InvariantCulture) * 60 + double.Parse(t[(m + 1)..].TrimEnd('s'), CultureInfo.InvariantCulture);
    }

    /// <summary>LLamaSharp's (decode, prefill) rates on <paramref name="gguf"/> after a <paramref name="prompt"/>-token prompt; null when LOOM_PEERS is not set or the run fails.</summary>
    public static (AnchorRate Decode, AnchorRate Prefill)? LlamaSharp(string gguf, int threads, int prompt, int tokens)
    {
        if (PeersPath is not { } peers) return null;
        var psi = new ProcessStartInfo(peers, ["llamasharp-decode", "--model", gguf, "--prompt-tokens", prompt.ToString(), "--gen", tokens.ToString(), "--threads", threads.ToString(), "--reps", "3"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string last = LastLine(output);
        try
        {
            var o = JsonDocument.Parse(last).RootElement;
            if (o.TryGetProperty("error", out var e)) throw new InvalidOperationException(e.ToString());
            double decodeCpu = o.GetProperty("decode_cpu_s").GetDouble(), prefillCpu = o.GetProperty("prefill_cpu_s").GetDouble();
            return (new AnchorRate(o.GetProperty("decode_tok_s").GetDouble(), tokens / (decodeCpu / threads)),
                    new AnchorRate(o.GetProperty("prefill_tok_s").GetDouble(), prompt / (prefillCpu / threads)));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            Console.WriteLine($"LLamaSharp (LOOM_PEERS) failed on {gguf} (exit {p.ExitCode}): {ex.Message} {LastLine(err.Result)}; row without LLamaSharp anchor.");
            return null;
        }
    }

    private static string LastLine(string s) => s.TrimEnd().Split('\n')[^1];
}
