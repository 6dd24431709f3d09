// A shard folder is one set, defined by the manifest.json that `tokenize` writes last: readers take
// exactly the files it lists, a folder without one is refused, a re-run refuses to mix sets unless
// told to overwrite (and then removes the old shards), and shards of another tokenizer are an error.
using Loom.Tokenizers.Shards;

namespace Loom.Tokenizers.Tests.Shards;

public class TokenShardSetTests
{
    private static readonly BpeTokenizer Gpt2 = TiktokenEncodings.Get("gpt2");

    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-shardset-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    // Documents "doc 0 ..." to "doc n-1 ..." as JSONL.
    private static string Docs(string dir, string name, int n)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllLines(path, Enumerable.Range(0, n).Select(i => $"{{\"text\": \"doc {i} says something about tokens\"}}"));
        return path;
    }

    private static List<int> ReadAll(string path, BpeTokenizer? expected = null)
    {
        var all = new List<int>();
        foreach (var shard in TokenShardSet.Read([path], expected, "expected"))
        {
            var buf = new int[shard.Count];
            shard.CopyTo(0, buf);
            all.AddRange(buf);
        }
        return all;
    }

    // Reference: each document's ids, then the separator, in input order.
    private static List<int> Expected(string jsonl) =>
        File.ReadLines(jsonl).SelectMany(l => Gpt2.EncodeOrdinary(System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).Append(50256)).ToList();

    [Fact]
    public void TheManifestListsEveryShardWithItsCountsAndTheTokenizer()
    {
        string dir = TempDir();
        string docs = Docs(dir, "a.jsonl", 40);
        string output = Path.Combine(dir, "out");
        var summary = TokenizePipeline.Run(Gpt2, [docs], output, new TokenizeOptions { ShardTokens = 50 });
        Assert.True(summary.Shards.Count > 2);

        var manifest = TokenShardManifest.Read(output);
        Assert.Equal(summary.Shards.Select(Path.GetFileName), manifest.Shards.Select(s => s.File));
        Assert.Equal(summary.Tokens, manifest.Tokens);
        Assert.Equal(40, manifest.Documents);
        Assert.Equal(Convert.ToHexStringLower(TokenShardHeader.FingerprintOf(Gpt2)), manifest.TokenizerFingerprint);
        Assert.Equal(50256, manifest.SeparatorId);
        Assert.Equal(Expected(docs), ReadAll(output, Gpt2));
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
    }

    [Fact]
    public void AReRunRefusesAnExistingSetUnlessOverwriteAndThenLeavesNoStaleShard()
    {
        string dir = TempDir();
        string output = Path.Combine(dir, "out");
        string big = Docs(dir, "big.jsonl", 40), small = Docs(dir, "small.jsonl", 3);
        int first = TokenizePipeline.Run(Gpt2, [big], output, new TokenizeOptions { ShardTokens = 50 }).Shards.Count;

        var e = Assert.Throws<IOException>(() => TokenizePipeline.Run(Gpt2, [small], output, new TokenizeOptions { ShardTokens = 50 }, name: n => n == "Overwrite" ? "--overwrite" : n));
        Assert.Contains("--overwrite", e.Message);
        Assert.Equal(Expected(big), ReadAll(output)); // the refused run changed nothing

        var second = TokenizePipeline.Run(Gpt2, [small], output, new TokenizeOptions { ShardTokens = 50, Overwrite = true });
        Assert.True(second.Shards.Count < first);
        // Before, the earlier run's later shards stayed and readers globbed them in: only the new set remains.
        Assert.Equal(second.Shards.Select(Path.GetFileName).Append(TokenShardManifest.FileName).Order(StringComparer.Ordinal),
                     Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Expected(small), ReadAll(output));
    }

    [Fact]
    public void ReadersTakeOnlyTheShardsTheManifestLists()
    {
        string dir = TempDir();
        string output = Path.Combine(dir, "out");
        string docs = Docs(dir, "a.jsonl", 5);
        var summary = TokenizePipeline.Run(Gpt2, [docs], output, new TokenizeOptions());
        // A stray shard (say, copied in by hand) that a glob for shard_*.bin would pick up.
        File.Copy(summary.Shards[0], Path.Combine(output, "shard_00007.bin"));
        Assert.Equal(Expected(docs), ReadAll(output));
    }

    [Fact]
    public void AFolderWithoutAManifestIsRefusedSayingToReRunTokenize()
    {
        string dir = TempDir();
        string output = Path.Combine(dir, "out");
        TokenizePipeline.Run(Gpt2, [Docs(dir, "a.jsonl", 5)], output, new TokenizeOptions());
        File.Delete(Path.Combine(output, TokenShardManifest.FileName)); // as after a crash before the manifest was written
        var e = Assert.Throws<InvalidDataException>(() => ReadAll(output));
        Assert.Contains("manifest.json", e.Message);
        Assert.Contains("loom tokenize", e.Message);
    }

    [Fact]
    public void AShardThatNoLongerMatchesTheManifestIsRefused()
    {
        string dir = TempDir();
        string a = Path.Combine(dir, "a"), b = Path.Combine(dir, "b");
        TokenizePipeline.Run(Gpt2, [Docs(dir, "a.jsonl", 5)], a, new TokenizeOptions());
        TokenizePipeline.Run(Gpt2, [Docs(dir, "b.jsonl", 9)], b, new TokenizeOptions());
        File.Copy(Path.Combine(b, "shard_00000.bin"), Path.Combine(a, "shard_00000.bin"), overwrite: true);
        var e = Assert.Throws<InvalidDataException>(() => ReadAll(a));
        Assert.Contains("changed after", e.Message);
    }

    [Fact]
    public void ShardsOfAnotherTokenizerAreAnErrorNamingBoth()
    {
        string dir = TempDir();
        string output = Path.Combine(dir, "out");
        var summary = TokenizePipeline.Run(Gpt2, [Docs(dir, "a.jsonl", 5)], output, new TokenizeOptions());
        var cl100k = TiktokenEncodings.Get("cl100k_base");
        foreach (var path in new[] { output, summary.Shards[0] }) // a folder and a single shard file alike
        {
            var e = Assert.Throws<InvalidDataException>(() => ReadAll(path, cl100k));
            Assert.Contains("r50k_base", e.Message);
            Assert.Contains("expected", e.Message);
        }
        Assert.Equal(Expected(Path.Combine(dir, "a.jsonl")), ReadAll(summary.Shards[0], Gpt2)); // a single file still reads
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    public void ShardTokensBelowOneIsNamed(long shardTokens)
    {
        string dir = TempDir();
        var e = Assert.Throws<ArgumentException>(() => TokenizePipeline.Run(Gpt2, [Docs(dir, "a.jsonl", 2)], Path.Combine(dir, "out"),
            new TokenizeOptions { ShardTokens = shardTokens }, name: n => n == "ShardTokens" ? "--shard-tokens" : n));
        Assert.Contains("--shard-tokens", e.Message);
        Assert.Contains(shardTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void AShardGivenTwiceIsRefusedNamingIt()
    {
        // Regression: `eval --data set set` (or a folder and one of its shards) read the same tokens twice.
        string dir = TempDir();
        string output = Path.Combine(dir, "out");
        var summary = TokenizePipeline.Run(Gpt2, [Docs(dir, "a.jsonl", 5)], output, new TokenizeOptions());
        foreach (var paths in new[] { new[] { output, output }, new[] { output, summary.Shards[0] }, new[] { summary.Shards[0], Path.Combine(output, ".", Path.GetFileName(summary.Shards[0])) } })
        {
            var e = Assert.Throws<ArgumentException>(() => { foreach (var _ in TokenShardSet.Read(paths)) { } });
            Assert.Contains("given twice", e.Message);
            Assert.Contains(Path.GetFullPath(summary.Shards[0]), e.Message);
        }
    }
}
