// sentencepiece: Loom's SentencePiece trainer against spm_train (Debian package `sentencepiece`) on the same
// corpus — tiny Shakespeare (data/tinyshakespeare/input.txt), every 10th line held out — for Unigram and
// BPE at two vocabulary sizes, spm_train's defaults otherwise (nmt_nfkc, coverage 0.9995, one thread):
//   vocab_overlap          % of spm_train's normal pieces that Loom's vocabulary also has;
//   segmentation_agreement % of held-out lines that both models cut into the same pieces
//                          (spm's model is applied by Loom's reader, which equals spm_encode on the fixtures);
//   tokens_per_line        held-out pieces per line, Loom's model (anchor: spm's);
//   spm_encode_agreement   % of held-out lines where spm_encode itself, loading Loom's .model file, gives the
//                          ids Loom gives (the written file is a real ModelProto);
//   train_seconds          wall time to train (anchor: spm_train; ratio spm ÷ Loom, higher is better).
// Without spm_train on PATH only Loom's rows are written.
using System.Diagnostics;
using System.Text;
using Loom.Tokenizers.SentencePiece;

namespace Loom.Bench.Suites;

internal static class SentencePieceSuite
{
    public static void Run(BenchContext ctx)
    {
        string corpus = Path.Combine(BenchPaths.RepoRoot, "data", "tinyshakespeare", "input.txt");
        var lines = File.ReadAllLines(corpus);
        var train = lines.Where((_, i) => i % 10 != 9).ToArray();
        var heldOut = lines.Where((l, i) => i % 10 == 9 && l.Trim().Length > 0).ToArray();
        string dir = Path.Combine(Path.GetTempPath(), "loom-bench-sentencepiece");
        Directory.CreateDirectory(dir);
        string trainFile = Path.Combine(dir, "train.txt"), heldOutFile = Path.Combine(dir, "heldout.txt");
        File.WriteAllLines(trainFile, train, new UTF8Encoding(false));
        File.WriteAllLines(heldOutFile, heldOut, new UTF8Encoding(false));
        Console.WriteLine($"corpus: tiny Shakespeare, {train.Length:N0} training lines, {heldOut.Length:N0} held-out lines");
        string? spmTrain = BenchPaths.Which("spm_train"), spmEncode = BenchPaths.Which("spm_encode");
        if (spmTrain is null) Console.WriteLine("anchor: spm_train not found (apt-get install sentencepiece) — Loom's rows only");

        foreach (var type in new[] { SentencePieceModelType.Unigram, SentencePieceModelType.Bpe })
        foreach (int vocab in new[] { 2000, 8000 })
        {
            string name = $"{type.ToString().ToLowerInvariant()}-{vocab}";
            if (!ctx.Selected(name)) continue;
            var sw = Stopwatch.StartNew();
            var model = SentencePieceTrainer.Train(train, new SentencePieceTrainerOptions { ModelType = type, VocabSize = vocab });
            double loomSeconds = sw.Elapsed.TotalSeconds;
            string loomPath = Path.Combine(dir, name + ".loom.model");
            model.Write(loomPath);
            var loom = new SentencePieceTokenizer(model, null, loomPath);
            var loomIds = heldOut.Select(l => loom.Encode(l)).ToArray();
            double loomTokens = loomIds.Average(i => i.Length);
            Console.WriteLine($"{name}: loom trained in {loomSeconds:F1} s, {loomTokens:F2} pieces per held-out line");
            var secondsRow = new BenchRow(name, "train_seconds", Math.Round(loomSeconds, 2), "s");
            var tokensRow = new BenchRow(name, "tokens_per_line", Math.Round(loomTokens, 3), "pieces");
            if (spmTrain is not null)
            {
                string prefix = Path.Combine(dir, name + ".spm");
                sw.Restart();
                var (code, _, stderr) = BenchPaths.Exec(spmTrain,
                    $"--input=\"{trainFile}\" --model_prefix=\"{prefix}\" --model_type={type.ToString().ToLowerInvariant()} --vocab_size={vocab} --num_threads=1 --minloglevel=2",
                    TimeSpan.FromMinutes(20));
                double spmSeconds = sw.Elapsed.TotalSeconds;
                if (code != 0) { Console.WriteLine($"anchor: spm_train failed ({code}): {stderr[..Math.Min(500, stderr.Length)]}"); }
                else
                {
                    var spm = SentencePieceTokenizer.Load(prefix + ".model");
                    var spmPieces = Enumerable.Range(0, spm.VocabSize).Where(i => spm.GetPieceType(i) == SentencePieceType.Normal).Select(spm.IdToPiece).ToHashSet(StringComparer.Ordinal);
                    var loomPieces = Enumerable.Range(0, loom.VocabSize).Where(i => loom.GetPieceType(i) == SentencePieceType.Normal).Select(loom.IdToPiece).ToHashSet(StringComparer.Ordinal);
                    double overlap = 100.0 * spmPieces.Count(loomPieces.Contains) / spmPieces.Count;
                    int same = 0;
                    double spmTokens = 0;
                    for (int i = 0; i < heldOut.Length; i++)
                    {
                        var a = loom.EncodeToPieces(heldOut[i]);
                        var b = spm.EncodeToPieces(heldOut[i]);
                        spmTokens += b.Count;
                        if (a.SequenceEqual(b)) same++;
                    }
                    double agreement = 100.0 * same / heldOut.Length;
                    spmTokens /= heldOut.Length;
                    Console.WriteLine($"{name}: spm_train {spmSeconds:F1} s; vocabulary overlap {overlap:F1}%, segmentation agreement {agreement:F1}%, spm {spmTokens:F2} pieces per line");
                    ctx.Rows.Add(new BenchRow(name, "vocab_overlap", Math.Round(overlap, 2), "%"));
                    ctx.Rows.Add(new BenchRow(name, "segmentation_agreement", Math.Round(agreement, 2), "%"));
                    secondsRow = secondsRow with { Anchor = Math.Round(spmSeconds, 2), AnchorName = "spm_train", Ratio = Math.Round(spmSeconds / loomSeconds, 3) };
                    tokensRow = tokensRow with { Anchor = Math.Round(spmTokens, 3), AnchorName = "spm_train", Ratio = Math.Round(spmTokens / loomTokens, 4) };
                }
            }
            if (spmEncode is not null)
            {
                var (code, stdout, stderr) = BenchPaths.Exec(spmEncode, $"--model=\"{loomPath}\" --output_format=id \"{heldOutFile}\"", TimeSpan.FromMinutes(5));
                if (code != 0) Console.WriteLine($"spm_encode could not use Loom's model ({code}): {stderr[..Math.Min(500, stderr.Length)]}");
                else
                {
                    var outLines = stdout.Split('\n');
                    int same = 0;
                    for (int i = 0; i < heldOut.Length && i < outLines.Length; i++)
                    {
                        var ids = outLines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
                        if (ids.SequenceEqual(loomIds[i])) same++;
                    }
                    double agreement = 100.0 * same / heldOut.Length;
                    Console.WriteLine($"{name}: spm_encode with Loom's model agrees with Loom on {agreement:F2}% of held-out lines");
                    ctx.Rows.Add(new BenchRow(name, "spm_encode_agreement", Math.Round(agreement, 2), "%"));
                }
            }
            ctx.Rows.Add(secondsRow);
            ctx.Rows.Add(tokensRow);
        }
    }
}
