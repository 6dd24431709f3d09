// `loom eval perplexity` and `loom eval metrics` end to end. The numbers themselves are checked
// against PyTorch, sacreBLEU and the SQuAD script in Loom.Evaluation.Tests; here the command must
// print what the library computes on the same tokens / files (text tokenized whole, JSONL records
// joined by a blank line, bits per byte over the text's UTF-8 bytes), and bad input must give one
// error line naming the file, line or counts.
using System.Text;
using System.Text.Json;
using Loom.Evaluation.Perplexity;
using Loom.Models.Gpt2;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Cli.Tests.Commands.Eval;

public class EvalCommandsTests
{
    private const string Line = "to be or not to be, that is the question — ñ.\n";

    private static string MakeModelDir()
    {
        string dir = CliRunner.TempDir();
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat(Line, 50))], new BpeTrainerOptions { VocabularySize = 300, MinFrequency = 1 });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, Path.Combine(dir, "tokenizer.json"), bpe.Merges);
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = bpe.Tokenizer.VocabularySize, MaxPositions = 32, Embedding = 16, Layers = 1, Heads = 2 });
        model.InitializeWeights(4);
        model.Save(dir);
        return dir;
    }

    private static JsonElement Json(string output) => JsonDocument.Parse(output).RootElement;

    [Fact]
    public void PerplexityOfTextIsTheSlidingWindowLoopOnTheWholeTokenizedText()
    {
        string dir = MakeModelDir();
        string text = string.Concat(Enumerable.Repeat(Line, 6));
        string file = Path.Combine(dir, "text.txt");
        File.WriteAllText(file, text, new UTF8Encoding(false));
        var (code, output, console) = CliRunner.Run("eval", "perplexity", "--model", dir, "--input", file, "--context", "16", "--stride", "5", "--batch-size", "3");
        Assert.True(code == 0, console);
        var r = Json(output);

        using var model = Loom.Models.CausalLanguageModels.Load(dir);
        var ids = Loom.Tokenizers.TokenizerLoader.Load(dir).EncodeOrdinary(text);
        var expected = SlidingWindowPerplexity.Evaluate(model, ids, new PerplexityOptions { Context = 16, Stride = 5 });
        Assert.Equal(ids.Length - 1, r.GetProperty("tokens").GetInt64());
        // The command batched 3 windows a pass, the reference 1: float rounding differs by ~1e-7 relative.
        Near(expected.Nll, r.GetProperty("nll").GetDouble());
        Near(expected.Perplexity, r.GetProperty("perplexity").GetDouble());
        long bytes = Encoding.UTF8.GetByteCount(text);
        Assert.Equal(bytes, r.GetProperty("bytes").GetInt64());
        Near(expected.TotalNll / (bytes * Math.Log(2)), r.GetProperty("bits_per_byte").GetDouble());
        Near(expected.TotalNll / (text.EnumerateRunes().Count() * Math.Log(2)), r.GetProperty("bits_per_character").GetDouble());
    }

    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5 * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void JsonlRecordsAreJoinedByABlankLineAndShardsNeedNoText()
    {
        string dir = MakeModelDir();
        string jsonl = Path.Combine(dir, "docs.jsonl");
        File.WriteAllLines(jsonl, [JsonSerializer.Serialize(new { body = Line + Line }), "", JsonSerializer.Serialize(new { body = Line })]);
        string txt = Path.Combine(dir, "same.txt");
        File.WriteAllText(txt, Line + Line + "\n\n" + Line, new UTF8Encoding(false));
        var (code, fromJsonl, console) = CliRunner.Run("eval", "perplexity", "--model", dir, "--input", jsonl, "--field", "body");
        Assert.True(code == 0, console);
        var (code2, fromText, console2) = CliRunner.Run("eval", "perplexity", "--model", dir, "--input", txt);
        Assert.True(code2 == 0, console2);
        Assert.Equal(Json(fromText).GetProperty("total_nll").GetDouble(), Json(fromJsonl).GetProperty("total_nll").GetDouble());

        (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", Path.Combine(dir, "tokenizer.json"), "--input", txt, "--output", Path.Combine(dir, "shards"));
        Assert.True(code == 0, console);
        var (code3, fromShards, console3) = CliRunner.Run("eval", "perplexity", "--model", dir, "--input", Path.Combine(dir, "shards"), "--stride", "8");
        Assert.True(code3 == 0, console3);
        var s = Json(fromShards);
        Assert.Equal(s.GetProperty("input_tokens").GetInt64() - 1, s.GetProperty("tokens").GetInt64());
        Assert.True(s.GetProperty("bits_per_byte").GetDouble() > 0);   // the model's tokenizer decodes the shards' text
    }

    [Fact]
    public void PerplexityErrorsNameTheOptionOrLine()
    {
        string dir = MakeModelDir();
        string file = Path.Combine(dir, "t.txt");
        File.WriteAllText(file, Line);
        var (code, _, console) = CliRunner.Run("eval", "perplexity", "--model", dir, "--input", file, "--context", "64");
        Assert.Equal(1, code);
        Assert.Contains("--context", console);
        Assert.Contains("32", console);
        (code, _, console) = CliRunner.Run("eval", "perplexity", "--model", dir, "--input", file, "--context", "8", "--stride", "9");
        Assert.Equal(1, code);
        Assert.Contains("--stride", console);
        string jsonl = Path.Combine(dir, "bad.jsonl");
        File.WriteAllLines(jsonl, ["{\"text\": \"a\"}", "{\"text\": "]);
        (code, _, console) = CliRunner.Run("eval", "perplexity", "--model", dir, "--input", jsonl);
        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:2", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void MetricsBleuOfSacreBleusOwnExample()
    {
        // sacreBLEU's test_bleu.py corpus example with two reference streams: 48.530827 (13a, exp smoothing).
        string dir = CliRunner.TempDir();
        string hyp = Path.Combine(dir, "hyp.txt"), r1 = Path.Combine(dir, "r1.txt"), r2 = Path.Combine(dir, "r2.txt");
        File.WriteAllLines(hyp, ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]);
        File.WriteAllLines(r1, ["The dog bit the man.", "It was not unexpected.", "The man bit him first."]);
        File.WriteAllLines(r2, ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]);
        var (code, output, console) = CliRunner.Run("eval", "metrics", "--metric", "bleu", "--predictions", hyp, "--references", r1, r2);
        Assert.True(code == 0, console);
        var r = Json(output);
        Assert.Equal(48.530827, r.GetProperty("score").GetDouble(), 6);
        Assert.StartsWith("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp", r.GetProperty("signature").GetString());
    }

    [Fact]
    public void MetricsSquadV2PrintsTheOfficialKeysAndRegressionUsesNumbers()
    {
        string dir = CliRunner.TempDir();
        string data = Path.Combine(dir, "dev.json"), pred = Path.Combine(dir, "pred.json");
        File.WriteAllText(data, """
            {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "The cat sat on the mat.", "qas": [
              {"id": "q1", "question": "Who sat?", "answers": [{"text": "The cat", "answer_start": 0}], "is_impossible": false},
              {"id": "q2", "question": "Where?", "answers": [{"text": "on the mat", "answer_start": 8}, {"text": "the mat", "answer_start": 11}], "is_impossible": false},
              {"id": "q3", "question": "Why?", "answers": [], "is_impossible": true}]}]}]}
            """);
        File.WriteAllText(pred, """{"q1": "cat", "q2": "mat sat", "q3": ""}""");
        var (code, output, console) = CliRunner.Run("eval", "metrics", "--metric", "squad_v2", "--predictions", pred, "--references", data);
        Assert.True(code == 0, console);
        var r = Json(output);
        // q1 exact (articles dropped); q2 F1 against "mat" (normalised "the mat"): P 1/2, R 1 → 2/3; q3 "" on no answer → 1.
        Assert.Equal(200.0 / 3, r.GetProperty("exact").GetDouble(), 9);
        Assert.Equal(100.0 * (1 + 2.0 / 3 + 1) / 3, r.GetProperty("f1").GetDouble(), 9);
        Assert.Equal(2, r.GetProperty("HasAns_total").GetInt32());
        Assert.Equal(100, r.GetProperty("NoAns_exact").GetDouble());

        string p = Path.Combine(dir, "p.txt"), t = Path.Combine(dir, "t.json");
        File.WriteAllText(p, "1\n2\n4\n");
        File.WriteAllText(t, "[1, 3, 3]");
        (code, output, console) = CliRunner.Run("eval", "metrics", "--metric", "mse", "--predictions", p, "--references", t);
        Assert.True(code == 0, console);
        Assert.Equal(2.0 / 3, Json(output).GetProperty("mse").GetDouble(), 12);
    }

    [Fact]
    public void MetricsErrorsNameFileLineAndCounts()
    {
        string dir = CliRunner.TempDir();
        string p = Path.Combine(dir, "p.json"), t = Path.Combine(dir, "t.txt");
        File.WriteAllText(p, "[\n  \"a\",\n  \"b\",,\n]");
        File.WriteAllText(t, "a\nb\nc\n");
        var (code, _, console) = CliRunner.Run("eval", "metrics", "--metric", "bleu", "--predictions", p, "--references", t);
        Assert.Equal(1, code);
        Assert.Contains("p.json:3", console);
        File.WriteAllText(p, "[\"a\", \"b\"]");
        (code, _, console) = CliRunner.Run("eval", "metrics", "--metric", "chrf", "--predictions", p, "--references", t);
        Assert.Equal(1, code);
        Assert.Contains("2 segments", console);
        Assert.Contains("holds 3", console);
        (code, _, console) = CliRunner.Run("eval", "metrics", "--metric", "blue", "--predictions", p, "--references", t);
        Assert.Equal(1, code);
        Assert.Contains("bleu", console);
        Assert.DoesNotContain("   at ", console);
        // Empty files used to fail inside the metric with "Sequence contains no elements".
        string empty = Path.Combine(dir, "empty.txt");
        File.WriteAllText(empty, "");
        foreach (var metric in new[] { "bleu", "rouge", "mse" })
        {
            (code, _, console) = CliRunner.Run("eval", "metrics", "--metric", metric, "--predictions", empty, "--references", empty);
            Assert.Equal(1, code);
            Assert.Contains("holds no entries", console);
        }
    }
}
