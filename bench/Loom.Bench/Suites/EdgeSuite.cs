// The `edge` suite (issue 15 §7, docs/EDGE.md): loom-run's NativeAOT binary against the JIT, by the
// size of the binary and the cold-start time to the first token — a fresh process per run, from exec to
// the first byte of generated text on stdout (which includes loading the model), median of 5 runs,
// the runners alternating within each round so load on a shared machine hits them alike. Runners:
//   loom-run (NativeAOT)   the published native binary (LOOM_RUN, else published here into a temp folder)
//   loom-run (JIT)         `dotnet loom-run.dll`, the same code on the JIT
//   loom generate (JIT)    `dotnet loom.dll generate`, the CLI (System.CommandLine, Spectre.Console)
// Models: the tiny GPT-2 of the test fixtures (tests/Loom.Inference.Tests/Fixtures/harness/model) in
// q4_0 and q8_0, and GPT-2 124M with random weights in q8_0 (tokenizer files from LOOM_GPT2_BPE, default
// ../shared/data/gpt2_bpe); they are written once into LOOM_EDGE_MODELS (default: a temp folder).
// Each row also carries the child's CPU time (user + system), which a loaded machine disturbs less than
// wall time, and each runner's decode cost: (CPU of a 33-token run − CPU of the 1-token cold start) / 32,
// in CPU ms per token — what the instruction set the binary was compiled for changes (docs/EDGE.md).
// LOOM_RUN_V4 may name a second native binary published with -p:IlcInstructionSet=native (AVX-512 here),
// timed as a fourth runner. `--filter tiny` skips the 124M model; `--threads T` (first value, default 1
// here) is passed as --threads / LOOM_THREADS.
using System.Diagnostics;
using Loom.Compression.Quantization;
using Loom.Models.Formats;
using Loom.Core.Kernels.Quantized;
using Loom.Models;
using Loom.Models.Gpt2;

namespace Loom.Bench.Suites;

internal static class EdgeSuite
{
    private const int Runs = 5;
    private const int DecodeRuns = 3;
    private const int DecodeTokens = 32;
    private const string Prompt = "The meaning of life is";

    public static void Run(BenchContext ctx)
    {
        int threads = ctx.Threads[0];   // 1 unless --threads says otherwise (the default list starts at 1)
        string root = BenchPaths.RepoRoot;
        string models = Environment.GetEnvironmentVariable("LOOM_EDGE_MODELS") is { Length: > 0 } m ? m : Path.Combine(Path.GetTempPath(), "loom-edge-models");
        Directory.CreateDirectory(models);
        string native = Environment.GetEnvironmentVariable("LOOM_RUN") is { Length: > 0 } r ? r : Publish();
        string jitRun = Path.Combine(root, "src", "Loom.Run", "bin", "Release", "net10.0", "loom-run.dll");
        string loom = Path.Combine(root, "src", "Loom.Cli", "bin", "Release", "net10.0", "loom.dll");
        foreach (var dll in new[] { jitRun, loom })
            if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is missing; build it first (dotnet build {(dll == loom ? "src/Loom.Cli" : "src/Loom.Run")} -c Release).");

        long size = new FileInfo(native).Length;
        ctx.Rows.Add(new BenchRow("loom-run linux-x64 NativeAOT", "binary_size", size, "bytes"));
        Console.WriteLine($"loom-run NativeAOT binary {native}: {size:N0} bytes ({size / 1048576.0:F1} MiB)");

        string tiny = Path.Combine(root, "tests", "Loom.Inference.Tests", "Fixtures", "harness", "model");
        var cases = new List<(string Name, string Path)>
        {
            ("gpt2-tiny q4_0", Quantized(tiny, Path.Combine(models, "gpt2-tiny-q4_0"), QuantFormat.Q4_0)),
            ("gpt2-tiny q8_0", Quantized(tiny, Path.Combine(models, "gpt2-tiny-q8_0"), QuantFormat.Q8_0)),
        };
        if (ctx.Filter?.Contains("tiny", StringComparison.OrdinalIgnoreCase) != true)
            cases.Add(("gpt2-124M-random q8_0", Quantized(Random124M(Path.Combine(models, "gpt2-124M-random")), Path.Combine(models, "gpt2-124M-random-q8_0"), QuantFormat.Q8_0)));

        string t = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, path) in cases)
        {
            var runners = new List<(string Name, string Program, string[] Args)>
            {
                ("loom-run (NativeAOT)", native, ["generate", "--model", path, "--prompt", Prompt, "--threads", t, "--max-tokens"]),
                ("loom-run (JIT)", "dotnet", [jitRun, "generate", "--model", path, "--prompt", Prompt, "--threads", t, "--max-tokens"]),
                ("loom generate (JIT)", "dotnet", [loom, "generate", "--model", path, "--prompt", Prompt, "--max-new-tokens"]),
            };
            if (Environment.GetEnvironmentVariable("LOOM_RUN_V4") is { Length: > 0 } v4)
                runners.Insert(1, ("loom-run (NativeAOT native ISA)", v4, ["generate", "--model", path, "--prompt", Prompt, "--threads", t, "--max-tokens"]));
            var first = runners.Select(_ => new List<double>()).ToArray();
            var cpu = runners.Select(_ => new List<double>()).ToArray();
            var decode = runners.Select(_ => new List<double>()).ToArray();
            string? reference = null, longReference = null;
            for (int run = 0; run < Runs; run++)
                for (int i = 0; i < runners.Count; i++)
                {
                    var (ttft, cpuMs, output) = ColdStart(runners[i].Program, [.. runners[i].Args, "1"], threads);
                    // Every runner must print the same continuation, or the timings compare different work.
                    reference ??= output;
                    if (output != reference) throw new InvalidOperationException($"{runners[i].Name} on {name} printed \"{output}\", not \"{reference}\".");
                    first[i].Add(ttft);
                    cpu[i].Add(cpuMs);
                }
            for (int run = 0; run < DecodeRuns; run++)
                for (int i = 0; i < runners.Count; i++)
                {
                    var (_, cpuMs, output) = ColdStart(runners[i].Program, [.. runners[i].Args, (DecodeTokens + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)], threads);
                    // Not compared: the default NativeAOT binary runs narrower SIMD kernels than the JIT (docs/EDGE.md), whose
                    // other summation order flips near-ties of random-weight logits after a dozen greedy tokens.
                    longReference ??= output;
                    decode[i].Add((cpuMs - Median(cpu[i])) / DecodeTokens);
                }
            double aot = Median(first[0]);
            for (int i = 0; i < runners.Count; i++)
            {
                double ms = Median(first[i]), c = Median(cpu[i]), perToken = Median(decode[i]);
                ctx.Rows.Add(new BenchRow($"{name} {runners[i].Name} decode threads={threads}", "decode_cpu_time_per_token", Math.Round(perToken, 2), "ms"));
                ctx.Rows.Add(new BenchRow($"{name} {runners[i].Name} cold start", "time_to_first_token", Math.Round(ms, 1), "ms")
                {
                    Anchor = i == 0 ? null : Math.Round(ms, 1), AnchorName = i == 0 ? null : runners[i].Name,
                });
                ctx.Rows.Add(new BenchRow($"{name} {runners[i].Name} cold start", "process_cpu_time", Math.Round(c, 1), "ms"));
                Console.WriteLine($"{name,-22} {runners[i].Name,-30} first token {ms,8:F1} ms (median of {Runs}; runs {string.Join(", ", first[i].Select(x => x.ToString("F0")))})  CPU {c,8:F1} ms  decode {perToken,7:F2} CPU ms/token" +
                                  (i == 0 ? "" : $"  NativeAOT is {ms / aot:F2}x faster"));
            }
        }
    }

    // One fresh process: wall ms from start to the first byte on stdout, the child's CPU ms, and its whole output.
    private static (double FirstByteMs, double CpuMs, string Output) ColdStart(string program, string[] args, int threads)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LOOM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        double cpuBefore = ChildrenCpuMs();
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput;
        double first = -1;
        var text = new System.Text.StringBuilder();
        int c;
        while ((c = stdout.Read()) >= 0)
        {
            if (first < 0 && !char.IsWhiteSpace((char)c)) first = clock.Elapsed.TotalMilliseconds;
            text.Append((char)c);
        }
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result.Trim()}");
        if (first < 0) first = clock.Elapsed.TotalMilliseconds;
        // Process.TotalProcessorTime reads /proc of a live process; once reaped, the child's user + system time is
        // in this process's RUSAGE_CHILDREN (one child at a time, so the difference is this child's).
        return (first, ChildrenCpuMs() - cpuBefore, text.ToString().Trim());
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, out RUsage usage);

    private static double ChildrenCpuMs()
    {
        const int RusageChildren = -1;
        if (GetRUsage(RusageChildren, out var u) != 0) throw new InvalidOperationException("getrusage(RUSAGE_CHILDREN) failed.");
        return (u.UserSeconds + u.SystemSeconds) * 1e3 + (u.UserMicroseconds + u.SystemMicroseconds) / 1e3;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static string Quantized(string source, string output, QuantFormat format)
    {
        if (!File.Exists(Path.Combine(output, "model.safetensors")))
        {
            if (Directory.Exists(output)) Directory.Delete(output, true);
            ModelQuantizer.Quantize(source, output, new QuantizeOptions { Format = format });
        }
        return output;
    }

    // GPT-2 124M (Gpt2Config's defaults) with InitializeWeights' random weights, as a Hugging Face directory.
    private static string Random124M(string dir)
    {
        if (File.Exists(Path.Combine(dir, "model.safetensors"))) return dir;
        string bpe = Environment.GetEnvironmentVariable("LOOM_GPT2_BPE") is { Length: > 0 } b ? b : Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data", "gpt2_bpe");
        if (!File.Exists(Path.Combine(bpe, "encoder.json")))
            throw new FileNotFoundException($"LOOM_GPT2_BPE {bpe} has no encoder.json; point it at a folder with GPT-2's encoder.json and vocab.bpe, or run with --filter tiny.");
        Directory.CreateDirectory(dir);
        var config = new Gpt2Config();
        using var model = new Gpt2Model(config, ModelOptions.Inference);
        model.InitializeWeights(1);
        var p = model.Parameters;
        var items = p.Specs.Select((s, i) => new SafetensorsWriter.Item(s.Name, s.Shape, p.Value(i).ToArray())).ToList();
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), items, new Dictionary<string, string> { ["format"] = "pt" });
        config.Save(Path.Combine(dir, "config.json"));
        File.Copy(Path.Combine(bpe, "encoder.json"), Path.Combine(dir, "encoder.json"), true);
        File.Copy(Path.Combine(bpe, "vocab.bpe"), Path.Combine(dir, "vocab.bpe"), true);
        return dir;
    }

    // `dotnet publish src/Loom.Run -c Release -r linux-x64` into a temp folder (when LOOM_RUN names no binary).
    private static string Publish()
    {
        string output = Path.Combine(Path.GetTempPath(), "loom-edge-publish");
        Console.WriteLine($"publishing loom-run NativeAOT into {output} (set LOOM_RUN to a published binary to skip this)");
        var (code, stdout, stderr) = BenchPaths.Exec("dotnet", $"publish \"{Path.Combine(BenchPaths.RepoRoot, "src", "Loom.Run")}\" -c Release -r linux-x64 -o \"{output}\"", TimeSpan.FromMinutes(20));
        if (code != 0) throw new InvalidOperationException($"dotnet publish of loom-run failed ({code}): {stdout}{stderr}");
        return Path.Combine(output, "loom-run");
    }
}
