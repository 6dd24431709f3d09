// Perplexity evaluation speed: Hugging Face's sliding-window loop (Loom.Evaluation.Perplexity) with a
// GPT-2 124M (random weights, seed 1; n_positions 1024) on WikiText-2's test split (tokenized whole
// with r50k_base) — read from ../shared/data/wikitext2/test.txt or LOOM_WIKITEXT2 — context 1024,
// stride 512, batch 1, over the first --steps windows (default 4; the whole split is ~560 windows).
// Reported: scored tokens per second and forward tokens per second. Anchor (LOOM_BENCH_TORCH=1, Debian's
// /usr/bin/python3 with python3-torch): bench/python/eval_perplexity_anchor.py runs the same loop in
// PyTorch on the same weights (written by Loom as model.safetensors), the same token ids and the same
// thread count, on the same clock; its summed NLL must agree with Loom's to 1e-4 relative, so both
// computed the same thing. Ratio = Loom tokens/s ÷ PyTorch tokens/s.
//
// Harness case (issue 16 §6): the shipped sms_spam multiple-choice task (" ham" / " spam" by
// log-likelihood) on LOOM_BENCH_HARNESS_EXAMPLES examples (default 1,000: data/samples/sms_spam's train +
// validation lines, cycled in order), scored by TaskRunner through EngineTaskModel on the same GPT-2
// 124M; 2 requests per example. Reported: examples per second. Anchor: bench/python/eval_harness_anchor.py
// scores the very token ids EngineTaskModel built for each request (recorded by a pass-through
// ITaskModel) with the same longest-first, TokensPerBatch-bounded batching and lm-eval's logits cache (one
// forward row per distinct input; Loom also skips the head on unscored positions); every log-likelihood must
// agree to 1e-3 (summed float32 log-softmax), so both scored the same thing.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Loom.Evaluation.Harness;
using Loom.Evaluation.Perplexity;
using Loom.Inference.Engine;
using Loom.Inference.Scoring;
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Tokenizers;

namespace Loom.Bench.Suites;

internal static class EvalSuite
{
    private const int Context = 1024, Stride = 512;

    public static void Run(BenchContext ctx)
    {
        string textPath = Environment.GetEnvironmentVariable("LOOM_WIKITEXT2")
            ?? Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data", "wikitext2", "test.txt");
        if (!File.Exists(textPath)) { Console.WriteLine($"skipped: {textPath} not found (set LOOM_WIKITEXT2 to WikiText-2's test.txt)"); return; }
        int windows = ctx.Steps ?? 4;
        string text = File.ReadAllText(textPath);
        var sw = Stopwatch.StartNew();
        var all = TiktokenEncodings.Get("r50k_base").EncodeOrdinary(text);
        double tokenizeSeconds = sw.Elapsed.TotalSeconds;
        int needed = Math.Min(all.Length, (windows - 1) * Stride + Context);
        var ids = all.AsSpan(0, needed).ToArray();
        Console.WriteLine($"WikiText-2 test: {text.Length:N0} chars → {all.Length:N0} tokens in {tokenizeSeconds:F2} s ({all.Length / tokenizeSeconds:N0} tokens/s); scoring the first {ids.Length:N0} ({windows} windows of {Context}, stride {Stride})");
        ctx.Rows.Add(new BenchRow("tokenize wikitext2-test r50k_base", "tokens_per_s", Math.Round(all.Length / tokenizeSeconds), "tokens/s"));

        bool torch = Environment.GetEnvironmentVariable("LOOM_BENCH_TORCH") == "1" && File.Exists("/usr/bin/python3");
        if (!torch) Console.WriteLine("anchor: set LOOM_BENCH_TORCH=1 (needs /usr/bin/python3 with python3-torch) to run the PyTorch loop side by side");
        string dir = Path.Combine(Path.GetTempPath(), "loom-bench-eval-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            var config = new Gpt2Config { VocabSize = 50257, MaxPositions = 1024, Embedding = 768, Layers = 12, Heads = 12 };
            string idsPath = Path.Combine(dir, "ids.bin");
            File.WriteAllBytes(idsPath, System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()).ToArray());
            bool saved = false;
            foreach (int threads in ctx.Threads)
            {
                string caseName = $"perplexity gpt2-124m wikitext2 ctx{Context} stride{Stride} threads {threads}";
                if (!ctx.Selected(caseName)) continue;
                using var model = new Gpt2Model(config, ModelOptions.Inference, ctx.Pool(threads));
                model.InitializeWeights(1);
                if (!saved && torch) { model.Save(dir); saved = true; }
                // Warm-up: one short forward plans the activations of the first window length and runs the JIT.
                SlidingWindowPerplexity.Evaluate(model, ids.AsSpan(0, 64), new PerplexityOptions { Context = 64 });
                double start = ctx.Now(threads);
                var result = SlidingWindowPerplexity.Evaluate(model, ids, new PerplexityOptions { Context = Context, Stride = Stride });
                double seconds = ctx.Now(threads) - start;
                double scoredRate = result.Tokens / seconds, forwardRate = (double)result.Windows * Context / seconds;
                var row = new BenchRow(caseName, "scored_tokens_per_s", Math.Round(scoredRate, 1), "tokens/s");
                string extra = "";
                if (torch && Anchor(dir, idsPath, threads, ctx.CpuTime) is { } py)
                {
                    double pyRate = py.GetProperty("tokens").GetDouble() / py.GetProperty("seconds").GetDouble();
                    double pyNll = py.GetProperty("total_nll").GetDouble();
                    double rel = Math.Abs(pyNll - result.TotalNll) / Math.Abs(pyNll);
                    if (py.GetProperty("tokens").GetInt64() != result.Tokens || rel > 1e-4)
                        throw new InvalidOperationException($"{caseName}: PyTorch scored {py.GetProperty("tokens")} tokens with total NLL {pyNll:R}, Loom {result.Tokens} with {result.TotalNll:R} (relative {rel:E1}); the loops differ.");
                    row = row with { Anchor = Math.Round(pyRate, 1), AnchorName = $"pytorch {py.GetProperty("torch").GetString()}", Ratio = Math.Round(scoredRate / pyRate, 2) };
                    extra = $"  pytorch {pyRate,7:F1} tokens/s  ratio {scoredRate / pyRate:F2}  (NLL agrees to {rel:E1})";
                }
                ctx.Rows.Add(row);
                ctx.Rows.Add(new BenchRow(caseName, "forward_tokens_per_s", Math.Round(forwardRate, 1), "tokens/s"));
                ctx.Rows.Add(new BenchRow(caseName, "perplexity", Math.Round(result.Perplexity, 2), "ppl"));
                Console.WriteLine($"{caseName,-60} {scoredRate,7:F1} scored tokens/s  {forwardRate,7:F1} forward tokens/s  {seconds,6:F1} s  ppl {result.Perplexity:F1}{extra}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        RunHarness(ctx, torch);
    }

    private static void RunHarness(BenchContext ctx, bool torch)
    {
        int examples = int.TryParse(Environment.GetEnvironmentVariable("LOOM_BENCH_HARNESS_EXAMPLES"), out int e) && e > 0 ? e : 1000;
        string samples = Path.Combine(BenchPaths.RepoRoot, "data", "samples", "sms_spam");
        var lines = File.ReadAllLines(Path.Combine(samples, "train.jsonl")).Concat(File.ReadAllLines(Path.Combine(samples, "validation.jsonl"))).Where(l => l.Length > 0).ToArray();
        string dir = Path.Combine(Path.GetTempPath(), "loom-bench-harness-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllLines(Path.Combine(dir, "test.jsonl"), Enumerable.Range(0, examples).Select(i => lines[i % lines.Length]));
            string yaml = File.ReadAllText(Path.Combine(BenchPaths.RepoRoot, "data", "tasks", "sms_spam", "task.yaml"))
                .Replace("../../samples/sms_spam/validation.jsonl", "test.jsonl").Replace("../../samples/sms_spam/train.jsonl", "test.jsonl");
            File.WriteAllText(Path.Combine(dir, "task.yaml"), yaml);
            var task = TaskLoader.Load(Path.Combine(dir, "task.yaml"));
            var config = new Gpt2Config { VocabSize = 50257, MaxPositions = 1024, Embedding = 768, Layers = 12, Heads = 12 };
            var tokenizer = TiktokenEncodings.Get("r50k_base");
            bool saved = false;
            foreach (int threads in ctx.Threads)
            {
                string caseName = $"harness sms_spam multiple_choice gpt2-124m {examples} examples threads {threads}";
                if (!ctx.Selected(caseName)) continue;
                var model = new Gpt2Model(config, ModelOptions.Inference, ctx.Pool(threads));
                model.InitializeWeights(1);
                if (!saved && torch) { model.Save(dir); saved = true; }
                using var engine = new InferenceEngine(model, tokenizer, new InferenceEngineOptions { EndOfSequenceIds = [50256] }, ownsModel: true);
                var inner = new EngineTaskModel(engine, "gpt2-124m-random");
                var recorder = new RecordingTaskModel(inner);
                var options = new HarnessOptions { Shots = 0, BootstrapResamples = 2 };
                // Warm-up: a few documents plan the activations and run the JIT.
                TaskRunner.RunAsync(task, inner, options with { Limit = 4 }).GetAwaiter().GetResult();
                double start = ctx.Now(threads);
                var result = TaskRunner.RunAsync(task, recorder, options).GetAwaiter().GetResult();
                double seconds = ctx.Now(threads) - start;
                double rate = result.Documents / seconds;
                var row = new BenchRow(caseName, "examples_per_s", Math.Round(rate, 2), "examples/s");
                string extra = "";
                if (torch)
                {
                    string reqPath = Path.Combine(dir, "requests.bin");
                    WriteRequests(reqPath, inner, recorder.Requests, engine.ContextLength);
                    if (HarnessAnchor(dir, reqPath, inner.TokensPerBatch, threads, ctx.CpuTime) is { } py)
                    {
                        var lls = py.GetProperty("loglikelihoods").EnumerateArray().Select(x => x.GetDouble()).ToArray();
                        double worst = 0;
                        for (int i = 0; i < lls.Length; i++) worst = Math.Max(worst, Math.Abs(lls[i] - recorder.Results[i].LogLikelihood));
                        if (lls.Length != recorder.Results.Count || worst > 1e-3)
                            throw new InvalidOperationException($"{caseName}: PyTorch returned {lls.Length} log-likelihoods for {recorder.Results.Count} requests, worst difference {worst:E1}; the loops differ.");
                        double pyRate = result.Documents / py.GetProperty("seconds").GetDouble();
                        row = row with { Anchor = Math.Round(pyRate, 2), AnchorName = $"pytorch {py.GetProperty("torch").GetString()}", Ratio = Math.Round(rate / pyRate, 2) };
                        extra = $"  pytorch {pyRate,6:F2} examples/s  ratio {rate / pyRate:F2}  (log-likelihoods agree to {worst:E1})";
                    }
                }
                ctx.Rows.Add(row);
                ctx.Rows.Add(new BenchRow(caseName, "acc", Math.Round(result.Metrics["acc"].Value, 4), "fraction"));
                Console.WriteLine($"{caseName,-60} {rate,7:F2} examples/s  {recorder.Requests.Count} requests  {seconds,6:F1} s{extra}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // The ids EngineTaskModel scores for each request (its Encode, then its left truncation to the context), for the anchor.
    private static void WriteRequests(string path, EngineTaskModel model, IReadOnlyList<LogLikelihoodRequest> requests, int context)
    {
        var data = new List<int> { requests.Count };
        foreach (var r in requests)
        {
            var (ctx, cont) = model.Encode(r);
            int[] all = [.. ctx, .. cont];
            if (all.Length > context + 1) all = all[^(context + 1)..];
            int[] input = all[..^1];
            int[] c = cont.Length > input.Length ? cont[^input.Length..] : cont;
            data.Add(input.Length);
            data.Add(c.Length);
            data.AddRange(input);
            data.AddRange(c);
        }
        File.WriteAllBytes(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.ToArray().AsSpan()).ToArray());
    }

    private static JsonElement? HarnessAnchor(string modelDir, string reqPath, int tokensPerBatch, int threads, bool cpuTime)
    {
        string script = Path.Combine(BenchPaths.RepoRoot, "bench", "python", "eval_harness_anchor.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, modelDir, reqPath, tokensPerBatch.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), cpuTime ? "cpu" : "wall" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"anchor failed: {stderr.Result.Trim().Split('\n').LastOrDefault()}");
            return null;
        }
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    // Passes requests through to the engine model and keeps them and their results (in order) for the anchor.
    private sealed class RecordingTaskModel(ITaskModel inner) : ITaskModel
    {
        public List<LogLikelihoodRequest> Requests { get; } = [];
        public List<LogLikelihoodResult> Results { get; } = [];
        public string Name => inner.Name;
        public bool SupportsLogLikelihood => inner.SupportsLogLikelihood;

        public async Task<IReadOnlyList<LogLikelihoodResult>> LogLikelihoodAsync(IReadOnlyList<LogLikelihoodRequest> requests, CancellationToken cancellationToken = default)
        {
            var r = await inner.LogLikelihoodAsync(requests, cancellationToken).ConfigureAwait(false);
            Requests.AddRange(requests);
            Results.AddRange(r);
            return r;
        }

        public Task<IReadOnlyList<string>> GenerateAsync(IReadOnlyList<GenerationTaskRequest> requests, CancellationToken cancellationToken = default) => inner.GenerateAsync(requests, cancellationToken);
    }

    private static JsonElement? Anchor(string modelDir, string idsPath, int threads, bool cpuTime)
    {
        string script = Path.Combine(BenchPaths.RepoRoot, "bench", "python", "eval_perplexity_anchor.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, modelDir, idsPath, Context.ToString(CultureInfo.InvariantCulture), Stride.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), cpuTime ? "cpu" : "wall" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"anchor failed: {stderr.Result.Trim().Split('\n').LastOrDefault()}");
            return null;
        }
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
