// Loom's tokenizer.json (Unigram) pipeline against Hugging Face's own implementation: t5_hf.jsonl.gz holds
// the ids npm tokenizers@0.23.2 (the Rust library) gives with t5_tokenizer.json.gz — the t5style model
// converted as transformers' T5Converter does — without and with special tokens (make_hf_unigram.mjs).
using System.IO.Compression;
using System.Text.Json;
using Loom.Tokenizers.SentencePiece;

namespace Loom.Tokenizers.Tests.SentencePiece;

public class HuggingFaceUnigramTests
{
    private static string UnzippedTokenizerJson()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-sp-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(path))
        {
            using var z = new GZipStream(File.OpenRead(SentencePieceConformanceTests.FixturePath("t5_tokenizer.json.gz")), CompressionMode.Decompress);
            using var f = File.Create(path + ".tmp");
            z.CopyTo(f);
            f.Close();
            File.Move(path + ".tmp", path, overwrite: true);
        }
        return path;
    }

    [Fact]
    public void IdsEqualHuggingFaceTokenizers()
    {
        string path = UnzippedTokenizerJson();
        Assert.True(SentencePieceTokenizerJson.IsUnigram(path));
        var tok = SentencePieceTokenizer.Load(Path.GetDirectoryName(path)!);
        Assert.Equal(1, tok.EosId);
        Assert.Equal(0, tok.PadId);
        Assert.Equal(2, tok.UnkId);
        var failures = new List<string>();
        int count = 0;
        using var z = new GZipStream(File.OpenRead(SentencePieceConformanceTests.FixturePath("t5_hf.jsonl.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(z);
        while (reader.ReadLine() is { } line)
        {
            count++;
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            int[] expected = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] expectedSpecial = doc.RootElement.GetProperty("ids_special").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = tok.Encode(text);
            if (!actual.SequenceEqual(expected))
                failures.Add($"{JsonSerializer.Serialize(text)}\n  expected [{string.Join(",", expected)}] {string.Join(" ", expected.Select(tok.IdToPiece))}\n  actual   [{string.Join(",", actual)}] {string.Join(" ", actual.Select(tok.IdToPiece))}");
            var special = tok.Encode(text, addSpecialTokens: true);
            if (!special.SequenceEqual(expectedSpecial))
                failures.Add($"{JsonSerializer.Serialize(text)} with special tokens: expected [{string.Join(",", expectedSpecial)}], got [{string.Join(",", special)}]");
        }
        Assert.True(count > 300, $"only {count} fixture lines");
        Assert.True(failures.Count == 0, $"{failures.Count} differences from HF tokenizers in {count} lines:\n" + string.Join("\n", failures.Take(8)));
    }
}
