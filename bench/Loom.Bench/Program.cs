// Loom's benchmark runner: `dotnet run -c Release --project bench/Loom.Bench -- <suite> [--threads N]
// [--seconds S] [--filter TEXT]` prints a table and writes bench/results/<suite>.json.
using System.Text.Json;
using Loom.Bench;
using Loom.Bench.Suites;

var suites = new Dictionary<string, Action<BenchContext>>(StringComparer.OrdinalIgnoreCase)
{
    ["gemm"] = GemmSuite.Run,
    ["kernels"] = KernelSuite.Run,
    ["tokenizer"] = TokenizerSuite.Run,
    ["train"] = TrainSuite.Run,
    ["curate"] = CurateSuite.Run,
    ["wordpiece"] = WordPieceSuite.Run,
    ["finetune"] = FinetuneSuite.Run,
    ["inference"] = InferenceSuite.Run,
    ["serve"] = ServeSuite.Run,
    ["templates"] = TemplatesSuite.Run,
    ["lora"] = LoraSuite.Run,
    ["quant"] = QuantSuite.Run,
    ["eval"] = EvalSuite.Run,
    ["monitor"] = MonitorSuite.Run,
    ["parallelism"] = ParallelismSuite.Run,
    ["distributed"] = DistributedSuite.Run,
    ["sentencepiece"] = SentencePieceSuite.Run,
    ["sft"] = SftPackingSuite.Run,
    ["t5"] = T5Suite.Run,
    ["augment"] = AugmentSuite.Run,
    ["distill"] = DistillSuite.Run,
    ["edge"] = EdgeSuite.Run,
};

if (args.Length == 0 || !suites.ContainsKey(args[0]))
{
    Console.Error.WriteLine($"usage: Loom.Bench <{string.Join('|', suites.Keys)}> [--threads N[,N...]] [--seconds S] [--filter TEXT] [--steps N] [--cpu-time]");
    return 2;
}

var threads = new List<int>();
double seconds = 1.0;
string? filter = null;
int? steps = null;
bool cpuTime = Environment.GetEnvironmentVariable("LOOM_BENCH_CPU_TIME") == "1";
for (int i = 1; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--threads": threads.AddRange(Next().Split(',').Select(int.Parse)); break;
        case "--seconds": seconds = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--filter": filter = Next(); break;
        case "--steps": steps = int.Parse(Next()); break;
        case "--cpu-time": cpuTime = true; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
if (threads.Count == 0) threads.AddRange(Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1]);

var ctx = new BenchContext { Threads = threads, SecondsPerCase = seconds, Filter = filter, Steps = steps, CpuTime = cpuTime };
Console.WriteLine($"suite {args[0]}: {Environment.ProcessorCount} cores, .NET {Environment.Version}, threads {string.Join(',', threads)}, clock {(cpuTime ? "process CPU time ÷ threads (--cpu-time)" : "wall")}");
suites[args[0]](ctx);

string dir = Path.Combine(BenchPaths.RepoRoot, "bench", "results");
Directory.CreateDirectory(dir);
string path = Path.Combine(dir, $"{args[0].ToLowerInvariant()}.json");
File.WriteAllText(path, JsonSerializer.Serialize(ctx.Rows, new JsonSerializerOptions { WriteIndented = true }) + "\n");
Console.WriteLine($"wrote {path}");
return 0;
