using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Trainer;

namespace Loom.Tokenizers.Tests.Trainer;

public class BpeTrainerTests
{
    [Fact]
    public void MergesEqualTheCs336Reference()
    {
        var result = BpeTrainer.TrainFromFiles([Fixtures.Path("bpe_training", "corpus.en")],
            new BpeTrainerOptions { VocabularySize = 500, MinFrequency = 1, SpecialTokens = ["<|endoftext|>"], Threads = 2 });
        var want = File.ReadAllLines(Fixtures.Path("bpe_training", "train-bpe-reference-merges.txt")).Where(l => l.Length > 0).ToArray();
        var got = result.Merges.Select(m => ByteLevelAlphabet.Encode(m.Left) + " " + ByteLevelAlphabet.Encode(m.Right)).ToArray();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++) Assert.True(want[i] == got[i], $"merge {i}: want \"{want[i]}\", got \"{got[i]}\"");

        // The vocabulary, as sets of byte strings, equals the reference's.
        var refVocab = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Fixtures.Path("bpe_training", "train-bpe-reference-vocab.json")))!;
        var refSet = refVocab.Keys.Where(k => k != "<|endoftext|>").Select(k => Convert.ToHexString(ByteLevelAlphabet.Decode(k, "ref"))).ToHashSet();
        var gotSet = result.Tokenizer.Tokens.Entries().Select(e => Convert.ToHexString(e.Bytes)).ToHashSet();
        Assert.Equal(refSet, gotSet);
        Assert.Equal(500, result.Tokenizer.VocabularySize);
        Assert.Equal(0, result.Tokenizer.SpecialTokens["<|endoftext|>"]);
    }

    [Fact]
    public void TrainedTokenizerRoundTripsAndSurvivesTokenizerJson()
    {
        var result = BpeTrainer.TrainFromFiles([Fixtures.Path("bpe_training", "tinystories_sample.txt"), Fixtures.Path("bpe_training", "address.txt")],
            new BpeTrainerOptions { VocabularySize = 400, SpecialTokens = ["[PAD]", "<|endoftext|>", "[MASK]"] });
        var tok = result.Tokenizer;
        string text = File.ReadAllText(Fixtures.Path("bpe_training", "tinystories_sample.txt"));
        int[] ids = tok.Encode(text, SpecialTokenPolicy.All);
        Assert.Equal(text, tok.Decode(ids));
        Assert.Contains(1, ids); // <|endoftext|> separates stories
        Assert.True(ids.Length < System.Text.Encoding.UTF8.GetByteCount(text) / 2, "merges should compress the text");

        string dir = Path.Combine(Path.GetTempPath(), "loom-train-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        HuggingFaceTokenizerJson.Save(tok, path, result.Merges);
        var loaded = HuggingFaceTokenizerJson.Load(path);
        Assert.Equal(ids, loaded.Encode(text, SpecialTokenPolicy.All));
    }

    [Fact]
    public void ResultDoesNotDependOnThreadCount()
    {
        var one = BpeTrainer.TrainFromFiles([Fixtures.Path("bpe_training", "corpus.en")], new BpeTrainerOptions { VocabularySize = 350, Threads = 1 });
        var two = BpeTrainer.TrainFromFiles([Fixtures.Path("bpe_training", "corpus.en")], new BpeTrainerOptions { VocabularySize = 350, Threads = 2 });
        Assert.Equal(one.Merges.Select(m => Convert.ToHexString(m.Left) + Convert.ToHexString(m.Right)),
                     two.Merges.Select(m => Convert.ToHexString(m.Left) + Convert.ToHexString(m.Right)));
    }

    [Fact]
    public void BadSettingsAndMissingFilesAreNamed()
    {
        Assert.Throws<ArgumentException>(() => BpeTrainer.Train(["abc"], new BpeTrainerOptions { VocabularySize = 100 }));
        var ex = Assert.Throws<FileNotFoundException>(() => BpeTrainer.TrainFromFiles(["/nope.txt"], new BpeTrainerOptions()));
        Assert.Contains("/nope.txt", ex.Message);
    }
}
