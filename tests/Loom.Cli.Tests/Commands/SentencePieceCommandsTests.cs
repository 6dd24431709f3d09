// `loom tokenizer encode|decode|train` with SentencePiece models: ids equal python-sentencepiece's
// (the fixture's recorded sp.encode output), </s> only with --add-special-tokens, decode as sp.decode.
using System.IO.Compression;
using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

public class SentencePieceCommandsTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentencepiece", name);

    private static List<(string Text, int[] Ids, string Decoded)> Vectors(string name, int take)
    {
        using var z = new GZipStream(File.OpenRead(Fixture(name + ".jsonl.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(z);
        var list = new List<(string, int[], string)>();
        while (reader.ReadLine() is { } line && list.Count < take)
        {
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            if (text.Length == 0) continue; // an empty text is written as a blank line, which the encoder keeps as []
            list.Add((text, doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(), doc.RootElement.GetProperty("decoded").GetString()!));
        }
        return list;
    }

    /// <summary>A T5-style model directory: spiece.model (the fixture, decompressed).</summary>
    private static string T5Directory()
    {
        string dir = CliRunner.TempDir();
        using var z = new GZipStream(File.OpenRead(Fixture("t5style.model.gz")), CompressionMode.Decompress);
        using (var f = File.Create(Path.Combine(dir, "spiece.model"))) z.CopyTo(f);
        return dir;
    }

    [Fact]
    public void EncodeEqualsSentencePieceAndAddsEosOnlyWhenAsked()
    {
        string model = T5Directory();
        var vectors = Vectors("t5style", 120);
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, vectors.Select(v => JsonSerializer.Serialize(new { text = v.Text })));

        var (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", model, "--input", input);
        Assert.True(code == 0, console);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(vectors.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++) Assert.Equal(vectors[i].Ids, JsonSerializer.Deserialize<int[]>(lines[i])!);

        (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", Path.Combine(model, "spiece.model"), "--input", input, "--add-special-tokens");
        Assert.True(code == 0, console);
        lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < lines.Length; i++) Assert.Equal([.. vectors[i].Ids, 1], JsonSerializer.Deserialize<int[]>(lines[i])!); // T5: </s> is id 1

        string ids = Path.Combine(dir, "ids.jsonl");
        File.WriteAllLines(ids, vectors.Select(v => JsonSerializer.Serialize(v.Ids)));
        (code, output, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", model, "--input", ids);
        Assert.True(code == 0, console);
        var decoded = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<string>(l)).ToArray();
        Assert.Equal(vectors.Select(v => v.Decoded), decoded);
    }

    [Fact]
    public void ADamagedModelIsOneErrorLine()
    {
        string dir = CliRunner.TempDir();
        string model = Path.Combine(dir, "broken.model");
        File.WriteAllBytes(model, [0x0A, 0x50, 0x01]);
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"hello\"}\n");
        var (code, _, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", model, "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("--tokenizer", console);
        Assert.Contains("broken.model", console);
        Assert.DoesNotContain("   at ", console);
    }
}

public class SentencePieceTrainCommandTests
{
    [Fact]
    public void TrainUnigramWritesASpieceModelThatEncodeLoads()
    {
        string dir = CliRunner.TempDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat.\nthe dog sat on the log.\nno cat, no dog.\n", 100)));
        string output = Path.Combine(dir, "tok");
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--model", "unigram", "--input", corpus, "--vocab-size", "24", "--output", output);
        Assert.True(code == 0, console);
        Assert.True(File.Exists(Path.Combine(output, "spiece.model")));

        (code, _, console) = CliRunner.Run("tokenizer", "train", "--model", "unigram", "--input", corpus, "--vocab-size", "24", "--output", output);
        Assert.Equal(1, code);
        Assert.Contains("--overwrite", console);

        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"the cat sat\"}\n");
        string ids;
        (code, ids, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", output, "--input", input);
        Assert.True(code == 0, console);
        File.WriteAllText(Path.Combine(dir, "ids.jsonl"), ids);
        (code, string text, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", output, "--input", Path.Combine(dir, "ids.jsonl"));
        Assert.True(code == 0, console);
        Assert.Equal("\"the cat sat\"", text.Trim());

        (code, _, console) = CliRunner.Run("tokenizer", "train", "--model", "unigram", "--input", corpus, "--vocab-size", "24", "--output", output, "--overwrite", "--min-frequency", "5");
        Assert.Equal(1, code);
        Assert.Contains("--min-frequency applies to --model bpe and wordpiece", console);
    }

    [Fact]
    public void EncodeWithAnEmptyFolderNamesEveryFileItTakes()
    {
        // Regression: the error listed only the BPE files (tokenizer.json, encoder.json + vocab.bpe, vocab.json +
        // merges.txt), so a T5 user whose spiece.model was missing was not told that file is what it looks for.
        string dir = CliRunner.TempDir();
        string empty = Path.Combine(dir, "model");
        Directory.CreateDirectory(empty);
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"hi\"}\n");
        var (code, _, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", empty, "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("spiece.model", console);
        Assert.Contains("vocab.txt", console);
        Assert.DoesNotContain("   at ", console);
    }

    [Fact]
    public void DecodeOfAnIdOutsideTheVocabularyIsOneErrorLine()
    {
        // Regression: the error carried .NET's " (Parameter 'ids')" and a second line "Actual value was 99999".
        string dir = CliRunner.TempDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat.\nthe dog sat on the log.\nno cat, no dog.\n", 100)));
        string output = Path.Combine(dir, "tok");
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--model", "unigram", "--input", corpus, "--vocab-size", "24", "--output", output);
        Assert.True(code == 0, console);
        string ids = Path.Combine(dir, "ids.jsonl");
        File.WriteAllText(ids, "[3]\n[99999]\n");
        (code, _, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", output, "--input", ids);
        Assert.Equal(1, code);
        Assert.Contains("ids.jsonl:2: Id 99999 at position 0 is outside the vocabulary", console);
        Assert.DoesNotContain("Actual value", console);
        Assert.DoesNotContain("(Parameter", console);
    }
}
