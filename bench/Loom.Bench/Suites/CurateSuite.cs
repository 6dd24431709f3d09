// The `curate` suite: Loom.Data's default curation pipeline over the 100,000 IMDB reviews in
// ../shared/data/imdb (train, test and unsup; 136 MB of JSONL once decompressed).
//
//  - `stage <name>`: one map stage alone over the test split held in memory (texts as read for
//    `normalize`, normalised for the others), one thread: MB/s of text. Shows where the time goes.
//  - `pipeline imdb threads=N`: `Curator.Run` end to end (read gzip, map stages, signatures, spool,
//    exact + near dedup, kept/removed/report) at 1 and 2 threads: documents/s, MB/s of decompressed
//    input, and peak resident memory (VmHWM, reset before each case through /proc/self/clear_refs) and
//    peak anonymous memory (RssAnon sampled every 10 ms: the resident set without file pages).
//  - `pipeline imdb×4 threads=N`: the same corpus listed four times (symbolic links), to show that
//    peak memory does not grow with the corpus apart from the dedup index.
using System.Diagnostics;
using Loom.Data.Documents;
using Loom.Data.Pipeline;
using Loom.Data.Readers;
using Loom.Data.Dedup;
using Loom.Data.Stages;

namespace Loom.Bench.Suites;

internal static class CurateSuite
{
    private static readonly string[] Splits = ["train", "test", "unsup"];

    public static void Run(BenchContext ctx)
    {
        string dir = Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data", "imdb");
        if (!File.Exists(Path.Combine(dir, "test.jsonl.gz")))
        {
            Console.WriteLine($"skipped: {dir} holds no IMDB files (the suite reads ../shared/data/imdb/*.jsonl.gz).");
            return;
        }
        RunStages(ctx, Path.Combine(dir, "test.jsonl.gz"));
        var files = Splits.Select(s => Path.Combine(dir, s + ".jsonl.gz")).ToList();
        long bytes = files.Sum(DecompressedBytes);
        string work = Path.Combine(Path.GetTempPath(), "loom-bench-curate");
        foreach (int copies in new[] { 1, 4 })
        {
            var inputs = new List<string>();
            string linkDir = Path.Combine(work, "inputs");
            if (copies == 1) inputs.AddRange(files);
            else
            {
                Directory.CreateDirectory(linkDir);
                for (int c = 0; c < copies; c++)
                    foreach (var f in files)
                    {
                        string link = Path.Combine(linkDir, $"copy{c}-{Path.GetFileName(f)}");
                        if (!File.Exists(link)) File.CreateSymbolicLink(link, Path.GetFullPath(f));
                        inputs.Add(link);
                    }
            }
            foreach (int threads in ctx.Threads)
            {
                string name = $"pipeline imdb{(copies > 1 ? $"x{copies}" : "")} threads={threads}";
                if (!ctx.Selected(name)) continue;
                string output = Path.Combine(work, $"out-{copies}-{threads}");
                if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
                GC.Collect();
                ResetPeak();
                long peakAnonymous = 0;
                using var stop = new CancellationTokenSource();
                // Anonymous memory (heap, native buffers) apart from file pages: the memory-mapped signatures
                // count in the resident set while they are read, but the kernel can drop them at any time.
                var sampler = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        peakAnonymous = Math.Max(peakAnonymous, Status("RssAnon:"));
                        try { await Task.Delay(10, stop.Token); } catch (OperationCanceledException) { }
                    }
                });
                var sw = Stopwatch.StartNew();
                var report = Curator.Run(new CurationConfig { Input = inputs, Output = output }, threads: threads)!;
                double s = sw.Elapsed.TotalSeconds;
                stop.Cancel();
                sampler.Wait();
                long peak = Status("VmHWM:");
                double mbps = bytes * copies / 1e6 / s;
                ctx.Rows.Add(new BenchRow(name, "docs_per_s", Math.Round(report.Documents / s), "docs/s"));
                ctx.Rows.Add(new BenchRow(name, "mb_per_s", Math.Round(mbps, 2), "MB/s"));
                ctx.Rows.Add(new BenchRow(name, "peak_rss_bytes", peak, "bytes"));
                ctx.Rows.Add(new BenchRow(name, "peak_anonymous_bytes", peakAnonymous, "bytes"));
                ctx.Rows.Add(new BenchRow(name, "index_bytes_per_doc", report.IndexBytesPerDocument, "bytes"));
                Console.WriteLine($"{name,-34} {report.Documents,8} docs in {s,6:F2} s: {report.Documents / s,8:F0} docs/s {mbps,6:F2} MB/s, peak RSS {peak / 1e6,4:F0} MB (anonymous {peakAnonymous / 1e6,4:F0} MB) " +
                                  $"(map {report.MapSeconds:F2} s, merge {report.MergeSeconds:F2} s, kept {report.Kept})");
                Directory.Delete(output, recursive: true);
            }
        }
    }

    // Each stage alone, one thread, on texts already normalised (as every stage after the first sees them).
    private static void RunStages(BenchContext ctx, string file)
    {
        var config = new CurationConfig();
        var stages = config.BuildStages();
        var raw = CorpusReader.Read([file], new ReaderOptions(), new ReadStatistics()).Select(d => d.Text).ToList();
        var normalized = raw.Select(t => stages[0].Process(new Document { Id = "", Text = t, Source = file }).Removed ? "" : ((Normalizer)stages[0]).Apply(t)).ToList();
        void Case(string name, Action<Document> action)
        {
            var texts = name == "stage normalize" ? raw : normalized;     // the first stage sees the text as read
            double mb = texts.Sum(t => (long)t.Length) / 1e6;
            if (!ctx.Selected(name)) return;
            double s = double.MaxValue;
            for (int round = 0; round < 3; round++)     // the first round also brings the code to its optimised tier
            {
                var docs = texts.Select((t, i) => new Document { Id = i.ToString(), Text = t, Source = file }).ToArray();
                var sw = Stopwatch.StartNew();
                foreach (var d in docs) action(d);
                s = Math.Min(s, sw.Elapsed.TotalSeconds);
            }
            ctx.Rows.Add(new BenchRow(name, "mb_per_s", Math.Round(mb / s, 2), "MB/s"));
            Console.WriteLine($"{name,-34} {mb / s,8:F2} MB/s ({s * 1e6 / texts.Count,7:F1} µs/doc, one thread)");
        }
        Case("stage word analysis", d => Loom.Data.Text.TextAnalysis.Of(d.Text));
        foreach (var stage in stages) Case($"stage {stage.Name}", d => stage.Process(d));
        var hasher = new MinHasher();
        var signature = new uint[hasher.Options.Hashes];
        char[] canonical = [];
        Case("stage signatures", d =>
        {
            var analysis = Loom.Data.Text.TextAnalysis.Of(d.Text);
            hasher.Signature(analysis.Normalized, signature);
            int length = analysis.Canonical(ref canonical);
            MinHasher.ContentHash(canonical.AsSpan(0, length));
        });
    }

    private static long DecompressedBytes(string gz)
    {
        using var s = new System.IO.Compression.GZipStream(File.OpenRead(gz), System.IO.Compression.CompressionMode.Decompress);
        var buffer = new byte[1 << 20];
        long n = 0;
        for (int r; (r = s.Read(buffer)) > 0;) n += r;
        return n;
    }

    // Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM).
    private static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // A field of /proc/self/status in bytes (kB there).
    private static long Status(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { }
        return 0;
    }
}
