using System.IO.Compression;
using System.Text;
using Loom.Core.IO;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;

namespace Loom.Tokenizers.Tests.Trainer;

// The readers behind `tokenize`, `tokenizer train`, `tokenizer encode` and `train`.
public class TextChunksTests
{
    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-chunks-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    internal static (string Path, int Cut) TruncatedGzip(string dir, string name)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, true))
            gz.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 84).Select(i => $"{{\"text\": \"document {i}: {string.Join(' ', Enumerable.Range(0, i).Select(j => j * 31 % 97))}\"}}\n"))));
        var bytes = ms.ToArray();
        string path = Path.Combine(dir, name);
        int cut = bytes.Length / 2;
        File.WriteAllBytes(path, bytes[..cut]);
        return (path, cut);
    }

    [Fact]
    public void LoneSurrogatesAreReplacedAndCountedAsTiktokenEncodesThem()
    {
        string dir = TempDir(), path = Path.Combine(dir, "s.jsonl");
        File.WriteAllText(path, "{\"text\": \"a\\ud800b\"}\n{\"text\": \"ok \\ud83d\\ude00\"}\n");
        var counters = new InputCounters();
        Assert.Equal(["a\uFFFDb", "ok " + char.ConvertFromUtf32(0x1F600)], TextChunks.JsonLinesField(path, "text", counters).ToList());
        Assert.Equal(1, counters.LoneSurrogates);

        // tokenize: tiktoken encodes a lone surrogate as U+FFFD.
        var tok = TiktokenEncodings.Get("gpt2");
        var summary = TokenizePipeline.Run(tok, [path], Path.Combine(dir, "out"), new TokenizeOptions());
        Assert.Equal(1, summary.LoneSurrogates);
        using var shard = TokenShard.Open(summary.Shards[0]);
        var ids = new int[shard.Count];
        shard.CopyTo(0, ids);
        Assert.Equal([.. tok.EncodeOrdinary("a\uFFFDb"), 50256, .. tok.EncodeOrdinary("ok " + char.ConvertFromUtf32(0x1F600)), 50256], ids);

        var trained = BpeTrainer.TrainFromFiles([path], new BpeTrainerOptions { VocabularySize = 260, MinFrequency = 1 });
        Assert.Equal(1, trained.LoneSurrogates);
    }

    [Theory]
    [InlineData("{\"text\": \"ok\"}\n{\"text\": oops}\n", "invalid JSON")]
    [InlineData("{\"text\": \"ok\"}\n{\"body\": \"x\"}\n", "no string field \"text\"")]
    [InlineData("{\"text\": \"ok\"}\n{\"text\": 5}\n", "is a number")]
    [InlineData("{\"text\": \"ok\"}\n[\"text\"]\n", "not a JSON object")]
    public void ABadLineIsRefusedWithFileAndLineByEveryReader(string content, string reason)
    {
        string dir = TempDir(), path = Path.Combine(dir, "bad.jsonl");
        File.WriteAllText(path, content);
        foreach (var read in new Action[]
                 {
                     () => TextChunks.JsonLinesField(path, "text").ToList(),
                     () => BpeTrainer.TrainFromFiles([path], new BpeTrainerOptions { VocabularySize = 260 }),
                     () => TokenizePipeline.Run(TiktokenEncodings.Get("gpt2"), [path], Path.Combine(dir, "out"), new TokenizeOptions()),
                 })
        {
            var e = Assert.Throws<FormatException>(read);
            Assert.Contains($"{path}:2", e.Message);
            Assert.Contains(reason, e.Message);
        }
    }

    [Fact]
    public void TruncatedGzipIsAnErrorForEveryReader()
    {
        string dir = TempDir();
        var (jsonl, cut) = TruncatedGzip(dir, "c.jsonl.gz");
        var (text, textCut) = TruncatedGzip(dir, "c.txt.gz");
        foreach (var (path, at, read) in new (string, int, Action)[]
                 {
                     (jsonl, cut, () => TextChunks.JsonLinesField(jsonl, "text").ToList()),
                     (text, textCut, () => TextChunks.Read(text).ToList()),
                     (jsonl, cut, () => BpeTrainer.TrainFromFiles([jsonl], new BpeTrainerOptions { VocabularySize = 260 })),
                     (text, textCut, () => TokenizePipeline.Run(TiktokenEncodings.Get("gpt2"), [text], Path.Combine(dir, "out"), new TokenizeOptions())),
                 })
        {
            var e = Assert.Throws<InvalidDataException>(read);
            Assert.Contains(path, e.Message);
            Assert.Contains($"byte {at}", e.Message);
        }
    }
}
