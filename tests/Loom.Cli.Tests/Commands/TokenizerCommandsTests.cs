using System.Text.Json;

namespace Loom.Cli.Tests.Commands;

public class TokenizerCommandsTests
{
    [Fact]
    public void EncodeThenDecodeRoundTripsLineByLine()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        string[] texts = ["hello world", "naïve café 😀", "", "x <|endoftext|> y"];
        File.WriteAllLines(input, texts.Select(t => JsonSerializer.Serialize(new { body = t })));

        var (code, output, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "cl100k_base", "--input", input, "--field", "body", "--allowed-special", "all");
        Assert.True(code == 0, console);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(texts.Length, lines.Length);
        Assert.Equal("[15339,1917]", lines[0]);
        Assert.Equal("[]", lines[2]);
        Assert.Contains("100257", lines[3]);

        string ids = Path.Combine(dir, "ids.jsonl");
        File.WriteAllText(ids, output);
        (code, output, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", "cl100k_base", "--input", ids);
        Assert.True(code == 0, console);
        var decoded = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<string>(l)).ToArray();
        Assert.Equal(texts, decoded);
    }

    [Fact]
    public void DisallowedSpecialTextFailsWithTheRecordNumber()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, ["{\"text\": \"fine\"}", "{\"text\": \"<|endoftext|>\"}"]);
        var (code, _, console) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "gpt2", "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("record 2", console);
        Assert.Contains("<|endoftext|>", console);
    }

    [Fact]
    public void TrainWritesATokenizerJsonThatTokenizeCanUse()
    {
        string dir = CliRunner.TempDir();
        string corpus = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog sat on the log.\n", 200)));
        var (code, _, console) = CliRunner.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--special-tokens", "[PAD]", "<|endoftext|>", "--output", Path.Combine(dir, "tok"));
        Assert.True(code == 0, console);
        string tj = Path.Combine(dir, "tok", "tokenizer.json");
        Assert.True(File.Exists(tj));

        (code, _, console) = CliRunner.Run("tokenize", "--tokenizer", tj, "--input", corpus, "--output", Path.Combine(dir, "shards"));
        Assert.True(code == 0, console);
        Assert.Contains("1 documents", console);
        Assert.True(File.Exists(Path.Combine(dir, "shards", "shard_00000.bin")));
    }

    [Fact]
    public void UnknownTokenizerIsAClearError()
    {
        var (code, _, console) = CliRunner.Run("tokenizer", "decode", "--tokenizer", "nope_base", "--input", "/dev/null");
        Assert.Equal(1, code);
        Assert.Contains("cl100k_base", console);
    }
}
