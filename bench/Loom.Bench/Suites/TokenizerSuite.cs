// The `tokenizer` suite.
//  encode: MB/s (UTF-8 bytes) of encoding the IMDB test reviews (25,000 documents, ~32 MB) one
//  document per call, single-threaded and on all cores; anchor: npm tiktoken (WASM build of the
//  Rust core) on the same documents in a Node child process, when Node and bench/node's
//  node_modules are present (npm install --prefix bench/node). Token totals must agree.
//  encode long run: MB/s of encoding 1 MB of one repeated character (one piece with no split
//  point, the worst case of the merge loop: O(n log n) with the heap, > 300 s with the old scan).
//  cli encode: MB/s end to end of the built `loom tokenizer encode` process (start-up, tokenizer
//  load, JSONL read, encode, JSON output to a file) on the IMDB test reviews; anchor: npm tiktoken
//  doing the same in Node (bench/node/tiktoken_encode_jsonl.mjs); the two outputs must be identical.
//  train: seconds to train a 32k byte-level BPE on IMDB train+unsup text; anchor: sentencepiece's
//  spm_train --model_type=bpe on the same text (Debian package `sentencepiece`), when installed.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Loom.Tokenizers;
using Loom.Tokenizers.Trainer;

namespace Loom.Bench.Suites;

internal static class TokenizerSuite
{
    public static void Run(BenchContext ctx)
    {
        string imdb = Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data", "imdb");
        if (!Directory.Exists(imdb))
        {
            Console.WriteLine($"IMDB not found at {imdb}: the tokenizer suite reads ../shared/data/imdb (it is not shipped with the project).");
            return;
        }
        var docs = TextChunks.JsonLinesField(Path.Combine(imdb, "test.jsonl.gz"), "text").ToList();
        long bytes = docs.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
        Console.WriteLine($"encode corpus: IMDB test, {docs.Count:N0} documents, {bytes / 1e6:F1} MB");
        string docsFile = Path.Combine(Path.GetTempPath(), "loom-bench-imdb-test.jsonl");
        File.WriteAllLines(docsFile, docs.Select(d => JsonSerializer.Serialize(d)));

        foreach (var name in new[] { "r50k_base", "cl100k_base" })
        {
            var tok = TiktokenEncodings.Get(name);
            // The anchor runs only when one of its cases is selected (it takes a minute on this machine).
            var anchor = ctx.Threads.Any(t => ctx.Selected($"encode {name} imdb-test threads={t}")) ? RunTiktoken(name, docsFile) : null;
            foreach (int threads in ctx.Threads)
            {
                string caseName = $"encode {name} imdb-test threads={threads}";
                if (!ctx.Selected(caseName)) continue;
                long tokens = EncodeAll(tok, docs, threads); // warm the piece cache, as the anchor's warm-up does
                var sw = Stopwatch.StartNew();
                int reps = 0;
                do { tokens = EncodeAll(tok, docs, threads); reps++; } while (sw.Elapsed.TotalSeconds < ctx.SecondsPerCase);
                double mbps = bytes * reps / sw.Elapsed.TotalSeconds / 1e6;
                var row = new BenchRow(caseName, "mb_per_s", Math.Round(mbps, 2), "MB/s");
                string extra = "";
                if (anchor is { } a)
                {
                    if (a.Tokens != tokens) throw new InvalidOperationException($"{caseName}: Loom produced {tokens} tokens but tiktoken {a.Tokens}.");
                    row = row with { Anchor = Math.Round(a.Mbps, 2), Ratio = Math.Round(mbps / a.Mbps, 2) };
                    extra = $"  tiktoken (npm, 1 thread) {a.Mbps,6:F2} MB/s  ratio {mbps / a.Mbps:F2}";
                }
                ctx.Rows.Add(row);
                Console.WriteLine($"{caseName,-42} {mbps,7:F2} MB/s  {tokens:N0} tokens{extra}");
            }
        }

        foreach (var name in new[] { "r50k_base", "cl100k_base" })
        {
            string caseName = $"encode {name} 1MB of one character";
            if (ctx.Selected(caseName)) RunLongRun(ctx, TiktokenEncodings.Get(name), caseName);
        }

        string jsonl = Path.Combine(Path.GetTempPath(), "loom-bench-imdb-test-records.jsonl");
        File.WriteAllLines(jsonl, docs.Select(d => JsonSerializer.Serialize(new { text = d })));
        foreach (var name in new[] { "r50k_base", "cl100k_base" })
        {
            string caseName = $"cli encode {name} imdb-test end to end";
            if (ctx.Selected(caseName)) RunCli(ctx, name, jsonl, bytes, caseName);
        }

        string trainCase = "train vocab=32000 imdb-train+unsup";
        if (ctx.Selected(trainCase)) RunTrain(ctx, imdb, trainCase);
    }

    // Each thread encodes a contiguous share of the documents on its own dedicated thread. (With
    // Parallel.For the shares landed on varying thread-pool threads, and 2 threads measured only
    // 1.24× one thread; dedicated threads measure the tokenizer, 1.8×.)
    private static long EncodeAll(BpeTokenizer tok, List<string> docs, int threads)
    {
        var totals = new long[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var ids = new List<int>(1 << 14);
            int start = (int)((long)docs.Count * t / threads), end = (int)((long)docs.Count * (t + 1) / threads);
            long local = 0;
            for (int i = start; i < end; i++)
            {
                ids.Clear();
                tok.Encode(docs[i], ids, SpecialTokenPolicy.PlainText);
                local += ids.Count;
            }
            totals[t] = local;
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        return totals.Sum();
    }

    private static void RunLongRun(BenchContext ctx, BpeTokenizer tok, string caseName)
    {
        string text = new('x', 1 << 20);
        int[] ids = tok.Encode(text, SpecialTokenPolicy.PlainText);
        if (tok.Decode(ids) != text) throw new InvalidOperationException($"{caseName}: decode(encode(text)) differs from the text.");
        var sw = Stopwatch.StartNew();
        int reps = 0;
        do { tok.Encode(text, SpecialTokenPolicy.PlainText); reps++; } while (sw.Elapsed.TotalSeconds < ctx.SecondsPerCase);
        double seconds = sw.Elapsed.TotalSeconds / reps;
        double mbps = text.Length / seconds / 1e6;
        ctx.Rows.Add(new BenchRow(caseName, "mb_per_s", Math.Round(mbps, 2), "MB/s"));
        Console.WriteLine($"{caseName,-42} {mbps,7:F2} MB/s  ({seconds * 1e3:F0} ms per MB, {ids.Length:N0} tokens)");
    }

    // The built CLI, as `dotnet build Loom.sln -c Release` leaves it; the suite never builds or installs anything.
    private static string? FindCli()
    {
        string dll = Path.Combine(BenchPaths.RepoRoot, "src", "Loom.Cli", "bin", "Release", "net10.0", "loom.dll");
        return File.Exists(dll) ? dll : null;
    }

    private static void RunCli(BenchContext ctx, string encoding, string jsonl, long textBytes, string caseName)
    {
        string? cli = FindCli();
        if (cli is null)
        {
            Console.WriteLine($"{caseName}: the CLI is not built (dotnet build src/Loom.Cli -c Release) — skipped");
            return;
        }
        string dotnet = BenchPaths.Which("dotnet") ?? "dotnet";
        string loomOut = Path.Combine(Path.GetTempPath(), $"loom-bench-cli-{encoding}.loom.jsonl");
        double loomSeconds = BestOf(3, () => TimeToFile(dotnet, $"\"{cli}\" tokenizer encode --tokenizer {encoding} --input \"{jsonl}\"", loomOut));
        double mbps = textBytes / loomSeconds / 1e6;
        var row = new BenchRow(caseName, "mb_per_s", Math.Round(mbps, 2), "MB/s");
        string extra = "";
        string script = Path.Combine(BenchPaths.RepoRoot, "bench", "node", "tiktoken_encode_jsonl.mjs");
        if (Directory.Exists(Path.Combine(BenchPaths.RepoRoot, "bench", "node", "node_modules", "tiktoken")) && BenchPaths.Which("node") is { } node)
        {
            string nodeOut = Path.Combine(Path.GetTempPath(), $"loom-bench-cli-{encoding}.node.jsonl");
            double nodeSeconds = BestOf(3, () => TimeToFile(node, $"\"{script}\" {encoding} \"{jsonl}\"", nodeOut));
            if (!File.ReadAllBytes(loomOut).AsSpan().SequenceEqual(File.ReadAllBytes(nodeOut)))
                throw new InvalidOperationException($"{caseName}: the CLI's output differs from npm tiktoken's ({loomOut} vs {nodeOut}).");
            double anchor = textBytes / nodeSeconds / 1e6;
            row = row with { Anchor = Math.Round(anchor, 2), Ratio = Math.Round(mbps / anchor, 2) };
            extra = $"  npm tiktoken end to end {anchor,6:F2} MB/s ({nodeSeconds:F2} s)  ratio {mbps / anchor:F2}  (outputs identical)";
        }
        else Console.WriteLine("anchor: npm tiktoken not installed (npm install --prefix bench/node) — no ratio");
        ctx.Rows.Add(row);
        Console.WriteLine($"{caseName,-42} {mbps,7:F2} MB/s ({loomSeconds:F2} s){extra}");
    }

    private static double BestOf(int runs, Func<double> run)
    {
        double best = double.MaxValue;
        for (int i = 0; i < runs; i++) best = Math.Min(best, run());
        return best;
    }

    // Wall seconds of one process run with stdout written to `outputPath` (start-up included).
    private static double TimeToFile(string program, string arguments, string outputPath)
    {
        var psi = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {program}.");
        using (var file = File.Create(outputPath))
        {
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.BaseStream.CopyTo(file, 1 << 20);
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {arguments} failed ({p.ExitCode}): {stderr.Result}");
        }
        return sw.Elapsed.TotalSeconds;
    }

    private sealed record AnchorResult(double Mbps, long Tokens);

    private static AnchorResult? RunTiktoken(string encoding, string docsFile)
    {
        string script = Path.Combine(BenchPaths.RepoRoot, "bench", "node", "tiktoken_encode.mjs");
        if (!Directory.Exists(Path.Combine(BenchPaths.RepoRoot, "bench", "node", "node_modules", "tiktoken")))
        {
            Console.WriteLine("anchor: npm tiktoken not installed (npm install --prefix bench/node) — no ratio");
            return null;
        }
        var (code, stdout, stderr) = BenchPaths.Exec("node", $"\"{script}\" {encoding} \"{docsFile}\"", TimeSpan.FromMinutes(10));
        if (code != 0) { Console.WriteLine($"anchor: node failed ({code}): {stderr}"); return null; }
        using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return new AnchorResult(doc.RootElement.GetProperty("mbps").GetDouble(), doc.RootElement.GetProperty("tokens").GetInt64());
    }

    private static void RunTrain(BenchContext ctx, string imdb, string caseName)
    {
        string[] files = [Path.Combine(imdb, "train.jsonl.gz"), Path.Combine(imdb, "unsup.jsonl.gz")];
        // The same text for both trainers: one review per line.
        string textFile = Path.Combine(Path.GetTempPath(), "loom-bench-imdb-train-unsup.txt");
        long textBytes;
        using (var w = new StreamWriter(textFile, false, new UTF8Encoding(false)))
        {
            foreach (var f in files)
                foreach (var t in TextChunks.JsonLinesField(f, "text")) w.WriteLine(t.Replace('\n', ' '));
        }
        textBytes = new FileInfo(textFile).Length;
        Console.WriteLine($"train corpus: IMDB train+unsup, {textBytes / 1e6:F1} MB, vocabulary 32000");

        long before = GC.GetTotalMemory(true);
        var sw = Stopwatch.StartNew();
        var result = BpeTrainer.TrainFromFiles([textFile], new BpeTrainerOptions { VocabularySize = 32_000, Threads = ctx.Threads.Max() });
        double loomSeconds = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"loom: {loomSeconds:F1} s, {result.Merges.Count} merges, {result.DistinctPreTokens:N0} distinct pre-tokens, peak working set {Environment.WorkingSet / 1e6:F0} MB");

        var row = new BenchRow(caseName, "seconds", Math.Round(loomSeconds, 2), "s");
        string? spm = BenchPaths.Which("spm_train");
        if (spm != null)
        {
            string prefix = Path.Combine(Path.GetTempPath(), "loom-bench-spm");
            sw.Restart();
            var (code, _, stderr) = BenchPaths.Exec(spm,
                $"--input=\"{textFile}\" --model_prefix=\"{prefix}\" --model_type=bpe --vocab_size=32000 --num_threads={ctx.Threads.Max()} " +
                "--max_sentence_length=100000 --input_sentence_size=0 --character_coverage=1.0 --byte_fallback=true --minloglevel=1", TimeSpan.FromMinutes(30));
            double spmSeconds = sw.Elapsed.TotalSeconds;
            if (code == 0)
            {
                // Seconds: lower is better, so the ratio is anchor ÷ Loom.
                row = row with { Anchor = Math.Round(spmSeconds, 2), Ratio = Math.Round(spmSeconds / loomSeconds, 2) };
                Console.WriteLine($"sentencepiece spm_train (bpe): {spmSeconds:F1} s  ratio (spm ÷ loom) {spmSeconds / loomSeconds:F2}");
            }
            else Console.WriteLine($"anchor: spm_train failed ({code}): {stderr[..Math.Min(500, stderr.Length)]}");
        }
        else Console.WriteLine("anchor: spm_train not found (apt-get install sentencepiece) — no ratio");
        ctx.Rows.Add(row);
    }
}
