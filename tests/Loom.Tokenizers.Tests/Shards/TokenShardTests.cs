using Loom.Tokenizers.Shards;

namespace Loom.Tokenizers.Tests.Shards;

public class TokenShardTests
{
    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-shards-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void PipelineWritesEveryDocumentFollowedByTheSeparator()
    {
        string dir = TempDir();
        string jsonl = Path.Combine(dir, "docs.jsonl");
        File.WriteAllLines(jsonl, ["{\"text\": \"first document\", \"id\": 1}", "", "{\"text\": \"second <|endoftext|> one\"}"]);
        string text = Fixtures.Path("bpe_training", "corpus.en");
        var tok = TiktokenEncodings.Get("gpt2");
        var summary = TokenizePipeline.Run(tok, [jsonl, text], Path.Combine(dir, "out"), new TokenizeOptions { ShardTokens = 10_000 });

        var want = new List<int>();
        foreach (var d in new[] { "first document", "second <|endoftext|> one", File.ReadAllText(text) })
        {
            want.AddRange(tok.EncodeOrdinary(d));
            want.Add(50256);
        }
        Assert.Equal(3, summary.Documents);
        Assert.Equal(want.Count, summary.Tokens);
        var got = new List<int>();
        foreach (var path in summary.Shards)
        {
            using var shard = TokenShard.Open(path);
            Assert.Equal(2, shard.Header.BytesPerToken);
            Assert.Equal(50257, shard.Header.VocabularySize);
            Assert.Equal(50256, shard.Header.SeparatorId);
            Assert.Equal("r50k_base", shard.Header.TokenizerName);
            Assert.Equal(TokenShardHeader.FingerprintOf(tok), shard.Header.Fingerprint);
            var buf = new int[shard.Count];
            shard.CopyTo(0, buf);
            got.AddRange(buf);
            Assert.Equal(buf[^1], shard[shard.Count - 1]);
        }
        Assert.Equal(want, got);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "out"), "*.tmp"));
    }

    [Fact]
    public void LargeVocabulariesUseFourBytesPerToken()
    {
        string dir = TempDir();
        string f = Path.Combine(dir, "a.txt");
        File.WriteAllText(f, "Hello there, 世界!\n");
        var s = TokenizePipeline.Run(TiktokenEncodings.Get("cl100k_base"), [f], Path.Combine(dir, "out"), new TokenizeOptions());
        using var shard = TokenShard.Open(s.Shards[0]);
        Assert.Equal(4, shard.Header.BytesPerToken);
        Assert.Equal(100257, shard[shard.Count - 1]);
    }

    [Fact]
    public void TruncatedOrForeignFilesAreRejectedWithTheReason()
    {
        string dir = TempDir();
        string f = Path.Combine(dir, "a.txt");
        File.WriteAllText(f, "some text to tokenize\n");
        var s = TokenizePipeline.Run(TiktokenEncodings.Get("gpt2"), [f], Path.Combine(dir, "out"), new TokenizeOptions());
        byte[] bytes = File.ReadAllBytes(s.Shards[0]);
        string cut = Path.Combine(dir, "cut.bin");
        File.WriteAllBytes(cut, bytes[..^2]);
        var ex = Assert.Throws<InvalidDataException>(() => TokenShard.Open(cut));
        Assert.Contains("truncated", ex.Message);
        Assert.Contains(cut, ex.Message);
        string foreign = Path.Combine(dir, "foreign.bin");
        File.WriteAllBytes(foreign, new byte[200]);
        ex = Assert.Throws<InvalidDataException>(() => TokenShard.Open(foreign));
        Assert.Contains("magic", ex.Message);
    }

    [Fact]
    public void EmptyInputAndBadJsonAreNamed()
    {
        string dir = TempDir();
        string empty = Path.Combine(dir, "empty.jsonl");
        File.WriteAllText(empty, "\n");
        var ex = Assert.Throws<InvalidDataException>(() => TokenizePipeline.Run(TiktokenEncodings.Get("gpt2"), [empty], Path.Combine(dir, "o1"), new TokenizeOptions()));
        Assert.Contains("no documents", ex.Message);
        string bad = Path.Combine(dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"text\": \"ok\"}\n{\"text\": oops}\n");
        var fex = Assert.Throws<FormatException>(() => TokenizePipeline.Run(TiktokenEncodings.Get("gpt2"), [bad], Path.Combine(dir, "o2"), new TokenizeOptions()));
        Assert.Contains("bad.jsonl:2", fex.Message);
    }

    [Fact]
    public void ChunkedReadingPreTokenizesLikeTheWholeText()
    {
        // A text much larger than one chunk, full of whitespace runs at line ends.
        string dir = TempDir();
        string f = Path.Combine(dir, "big.txt");
        var lines = Enumerable.Range(0, 120_000).Select(i => i % 7 == 0 ? "  indented line   " : i % 5 == 0 ? "" : $"line {i} ends here.");
        File.WriteAllText(f, string.Join("\n", lines) + "\n");
        var tok = TiktokenEncodings.Get("gpt2");
        var s = TokenizePipeline.Run(tok, [f], Path.Combine(dir, "out"), new TokenizeOptions());
        using var shard = TokenShard.Open(s.Shards[0]);
        var got = new int[shard.Count];
        shard.CopyTo(0, got);
        var want = tok.EncodeOrdinary(File.ReadAllText(f)).Append(50256).ToArray();
        Assert.Equal(want, got);
    }
}
