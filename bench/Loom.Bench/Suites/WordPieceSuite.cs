// The WordPiece (BERT) tokenizer: train a vocabulary on IMDB train (HF's defaults: vocab 30000) and
// encode IMDB test with the full BertTokenizerFast pipeline on one thread, in MB/s of UTF-8 input.
// Anchor: Hugging Face's own Rust implementation through npm tokenizers (bench/node-hf, one rayon
// thread) on the same vocabulary and documents; the token count and id sum must agree, so the
// 25,000 reviews are also a conformance check. Reads ../shared/data/imdb.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Bench.Suites;

internal static class WordPieceSuite
{
    public static void Run(BenchContext ctx)
    {
        string imdb = Path.Combine(BenchPaths.RepoRoot, "..", "shared", "data", "imdb");
        if (!Directory.Exists(imdb))
        {
            Console.WriteLine($"IMDB not found at {imdb}: the wordpiece suite reads ../shared/data/imdb (it is not shipped with the project).");
            return;
        }
        string work = Directory.CreateTempSubdirectory("loom-bench-wordpiece-").FullName;
        try
        {
            string corpus = Path.Combine(work, "train.txt");
            File.WriteAllLines(corpus, TextChunks.JsonLinesField(Path.Combine(imdb, "train.jsonl.gz"), "text"));
            Console.WriteLine($"train corpus: IMDB train, {new FileInfo(corpus).Length / 1e6:F1} MB");
            bool anchor = Directory.Exists(Path.Combine(BenchPaths.RepoRoot, "bench", "node-hf", "node_modules", "tokenizers"));
            if (!anchor) Console.WriteLine("anchor: npm tokenizers not installed (npm install --prefix bench/node-hf) — no ratio");

            var sw = Stopwatch.StartNew();
            var trained = WordPieceTrainer.TrainFromFiles([corpus], new WordPieceTrainerOptions { VocabularySize = 30_000 });
            double trainSeconds = sw.Elapsed.TotalSeconds;
            var trainRow = new BenchRow("wordpiece train vocab=30000 imdb-train", "seconds", Math.Round(trainSeconds, 2), "s");
            if (anchor && Node("train", $"\"{corpus}\"") is { } t)
                trainRow = trainRow with { Anchor = Math.Round(t.GetProperty("seconds").GetDouble(), 2), Ratio = Math.Round(t.GetProperty("seconds").GetDouble() / trainSeconds, 2) };
            ctx.Rows.Add(trainRow);
            Console.WriteLine($"{trainRow.Case,-44} {trainSeconds,7:F2} s  {trained.Vocabulary.Count} tokens{(trainRow.Anchor is { } ta ? $"  HF (npm tokenizers) {ta:F2} s  ratio (HF ÷ Loom) {trainRow.Ratio:F2}" : "")}");

            string vocabDir = Path.Combine(work, "vocab");
            BertVocabFiles.Save(trained.Vocabulary, new BertVocabOptions(), vocabDir);
            var tokenizer = WordPieceTokenizer.Load(vocabDir);
            var docs = TextChunks.JsonLinesField(Path.Combine(imdb, "test.jsonl.gz"), "text").ToList();
            long bytes = docs.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
            string docsFile = Path.Combine(work, "test.jsonl");
            File.WriteAllLines(docsFile, docs.Select(d => JsonSerializer.Serialize(d)));

            string caseName = "wordpiece encode imdb-test threads=1";
            if (!ctx.Selected(caseName)) return;
            var (tokens, idSum) = EncodeAll(tokenizer, docs); // warm-up
            sw.Restart();
            int reps = 0;
            do { (tokens, idSum) = EncodeAll(tokenizer, docs); reps++; } while (sw.Elapsed.TotalSeconds < ctx.SecondsPerCase);
            double mbps = bytes * reps / sw.Elapsed.TotalSeconds / 1e6;
            var row = new BenchRow(caseName, "mb_per_s", Math.Round(mbps, 2), "MB/s");
            string extra = "";
            if (anchor && Node("encode", $"\"{Path.Combine(vocabDir, "vocab.txt")}\" \"{docsFile}\"") is { } e)
            {
                if (e.GetProperty("tokens").GetInt64() != tokens || e.GetProperty("id_sum").GetInt64() != idSum)
                    throw new InvalidOperationException($"{caseName}: Loom produced {tokens} tokens (id sum {idSum}) but HF {e.GetProperty("tokens")} (id sum {e.GetProperty("id_sum")}).");
                double hf = e.GetProperty("mbps").GetDouble();
                row = row with { Anchor = Math.Round(hf, 2), Ratio = Math.Round(mbps / hf, 2) };
                extra = $"  HF (npm tokenizers, 1 thread) {hf,6:F2} MB/s  ratio {mbps / hf:F2}, same {tokens:N0} ids";
            }
            ctx.Rows.Add(row);
            Console.WriteLine($"{caseName,-44} {mbps,7:F2} MB/s  {bytes / 1e6:F1} MB, {tokens:N0} tokens{extra}");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // Full Encode (ids, type ids, masks, tokens, offsets) per review, with [CLS]/[SEP], as HF's encode.
    private static (long Tokens, long IdSum) EncodeAll(WordPieceTokenizer tokenizer, List<string> docs)
    {
        long tokens = 0, idSum = 0;
        foreach (var d in docs)
        {
            var e = tokenizer.Encode(d);
            tokens += e.Length;
            foreach (int id in e.Ids) idSum += id;
        }
        return (tokens, idSum);
    }

    private static JsonElement? Node(string mode, string arguments)
    {
        string script = Path.Combine(BenchPaths.RepoRoot, "bench", "node-hf", "wordpiece.mjs");
        Environment.SetEnvironmentVariable("RAYON_NUM_THREADS", "1");
        var (code, stdout, stderr) = BenchPaths.Exec("node", $"\"{script}\" {mode} {arguments}", TimeSpan.FromMinutes(20));
        if (code != 0) { Console.WriteLine($"anchor: node failed ({code}): {stderr}"); return null; }
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
    }
}
