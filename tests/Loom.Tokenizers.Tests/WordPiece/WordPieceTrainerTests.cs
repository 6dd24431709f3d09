// WordPieceTrainer against Hugging Face's WordPieceTrainer (npm tokenizers) and against properties
// any BPE-style trainer must have:
//  - the vocabulary it makes from tiny Shakespeare + multilingual.txt is the one the HF vectors were
//    encoded with (Fixtures/wordpiece/loom_vocab), so HF's encoder accepts a Loom-trained vocabulary
//    and agrees with Loom on it (WordPieceConformanceTests);
//  - with HF's default options it reproduces HF's vocabulary up to HF's own run-to-run variation
//    (HF iterates hash maps, so two HF runs differ too; hf_training.json records by how much);
//  - vocab_size and min_frequency only stop the same merge sequence earlier (prefix property);
//  - limit_alphabet keeps the most frequent characters, counted naively here.
// Regenerate the fixture vocabulary with LOOM_REGENERATE_FIXTURES=1 (then rerun the node script).
using System.Text.Json;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Normalizer;
using Loom.Tokenizers.PreTokenizer;
using Loom.Tokenizers.Trainer;

namespace Loom.Tokenizers.Tests.WordPiece;

public sealed class WordPieceTrainerTests
{
    private static readonly string s_shakespeare = Fixtures.Path("tinyshakespeare", "input.txt");
    private static readonly string s_multilingual = Fixtures.Path("wordpiece", "multilingual.txt");

    // The first ~100 kB of tiny Shakespeare: enough merges to test properties, fast to train on.
    private static readonly string s_small = File.ReadAllText(s_shakespeare)[..100_000];

    [Fact]
    public void TrainingOnTinyShakespeareGivesTheVocabularyHuggingFaceWasCheckedOn()
    {
        var result = WordPieceTrainer.TrainFromFiles([s_shakespeare, s_multilingual], new WordPieceTrainerOptions { Threads = 2 });
        string fixtureDir = Fixtures.Path("wordpiece", "loom_vocab");
        if (Environment.GetEnvironmentVariable("LOOM_REGENERATE_FIXTURES") == "1")
        {
            string source = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Fixtures", "wordpiece", "loom_vocab"));
            BertVocabFiles.Save(result.Vocabulary, new BertVocabOptions { ModelMaxLength = 512 }, source);
            return;
        }
        var expected = BertVocabFiles.ReadVocab(Path.Combine(fixtureDir, "vocab.txt")).OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        Assert.Equal(expected, result.Vocabulary);
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], result.Vocabulary.Take(5));
        // The trained tokenizer is the same pipeline as the fixture's vocab.txt: spot-check a pair.
        var e = result.Tokenizer.Encode("Café, my lord? 我爱你", "O Romeo, Romeo!");
        var reference = BertVocabFiles.Load(fixtureDir).Encode("Café, my lord? 我爱你", "O Romeo, Romeo!");
        Assert.Equal(reference.Ids, e.Ids);
        Assert.Equal(reference.TypeIds, e.TypeIds);
    }

    [Fact]
    public void WithHuggingFacesDefaultsTheVocabularyMatchesHuggingFacesTrainer()
    {
        var hf = File.ReadAllLines(Fixtures.Path("wordpiece", "hf_trained_vocab.txt"));
        using var meta = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("wordpiece", "hf_training.json")));
        int hfSpread = meta.RootElement.GetProperty("max_symmetric_difference_between_runs").GetInt32();
        var result = WordPieceTrainer.TrainFromFiles([s_shakespeare], new WordPieceTrainerOptions { SpecialTokens = [], Threads = 2 });
        var loom = result.Vocabulary;

        // The alphabet (ids 0..n-1: every character, sorted by code point) is deterministic in HF: equal.
        int alphabet = hf.TakeWhile(t => t.EnumerateRunes().Count() == 1).Count();
        Assert.True(alphabet > 30);
        Assert.Equal(hf.Take(alphabet), loom.Take(alphabet));
        // The "##c" continuation characters: the same set (HF numbers them in hash-map order).
        Assert.Equal(hf.Skip(alphabet).TakeWhile(t => t.StartsWith("##") && t.EnumerateRunes().Count() == 3).Order(StringComparer.Ordinal),
            loom.Skip(alphabet).TakeWhile(t => t.StartsWith("##") && t.EnumerateRunes().Count() == 3).Order(StringComparer.Ordinal));
        // The whole vocabulary: HF differs from itself by up to hfSpread tokens between runs (ties
        // broken in hash-map order); Loom must be as close to this HF run as that, within 0.5%.
        var a = loom.ToHashSet();
        var b = hf.ToHashSet();
        int difference = a.Except(b).Count() + b.Except(a).Count();
        Assert.True(Math.Abs(loom.Count - hf.Length) <= 5, $"Loom made {loom.Count} tokens, HF {hf.Length}");
        Assert.True(difference <= Math.Max(hfSpread * 2, hf.Length / 200),
            $"Loom's vocabulary differs from HF's in {difference} tokens; HF runs differ among themselves by up to {hfSpread}");
    }

    [Fact]
    public void VocabularySizeAndMinFrequencyStopTheSameMergeSequenceEarlier()
    {
        var full = WordPieceTrainer.Train([s_small], new WordPieceTrainerOptions { Threads = 1 }).Vocabulary;
        Assert.True(full.Count > 3000);
        foreach (int size in new[] { 5, 200, 1000, 2500 })
        {
            var cut = WordPieceTrainer.Train([s_small], new WordPieceTrainerOptions { VocabularySize = size, Threads = 1 }).Vocabulary;
            // The alphabet is never cut by vocab_size (as HF), so a tiny size keeps specials + alphabet.
            int expected = Math.Max(size, full.TakeWhile((t, i) => i < 5 || t.EnumerateRunes().Count() == 1 || t.StartsWith("##") && t.EnumerateRunes().Count() == 3).Count());
            Assert.Equal(full.Take(expected), cut);
        }
        // min_frequency: each merge's count is the count of its pair when merged; with min 20 the
        // merge sequence stops at the first pair seen fewer than 20 times, again a prefix.
        var frequent = WordPieceTrainer.Train([s_small], new WordPieceTrainerOptions { MinFrequency = 20, Threads = 1 }).Vocabulary;
        Assert.Equal(full.Take(frequent.Count), frequent);
        Assert.InRange(frequent.Count, 100, full.Count - 100);
    }

    [Fact]
    public void LimitAlphabetKeepsTheMostFrequentCharacters()
    {
        // Naive count: characters of the normalized, pre-tokenized words, weighted by occurrences.
        var normalizer = new BertNormalizer();
        var counts = new Dictionary<string, int>();
        foreach (var word in new BertPreTokenizer().Split(normalizer.Normalize(s_small)))
            foreach (var r in word.EnumerateRunes())
                counts[r.ToString()] = counts.GetValueOrDefault(r.ToString()) + 1;
        var ranked = counts.OrderByDescending(kv => kv.Value).ToArray();
        // A limit that falls between two different counts, so the expected set is unambiguous.
        int limit = Enumerable.Range(10, 20).First(l => ranked[l - 1].Value != ranked[l].Value);
        var expected = ranked.Take(limit).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToArray();

        var vocab = WordPieceTrainer.Train([s_small], new WordPieceTrainerOptions { LimitAlphabet = limit, SpecialTokens = ["[UNK]"], VocabularySize = 300, Threads = 1 }).Vocabulary;
        Assert.Equal("[UNK]", vocab[0]);
        Assert.Equal(expected, vocab.Skip(1).Take(limit).Order(StringComparer.Ordinal));
        // Characters outside the alphabet never appear in any token.
        var dropped = counts.Keys.Except(expected).ToHashSet();
        Assert.DoesNotContain(vocab.Skip(1), t => t.EnumerateRunes().Any(r => dropped.Contains(r.ToString())));
    }

    [Fact]
    public void BadOptionsAreNamedErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => WordPieceTrainer.Train(["a b"], new WordPieceTrainerOptions { VocabularySize = 3 }));
        Assert.Contains("vocab_size 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => WordPieceTrainer.Train(["a b"], new WordPieceTrainerOptions { MinFrequency = -1 }));
        Assert.Contains("min_frequency", e.Message);
        e = Assert.Throws<ArgumentException>(() => WordPieceTrainer.Train(["a b"], new WordPieceTrainerOptions { LimitAlphabet = -2 }));
        Assert.Contains("limit_alphabet", e.Message);
        Assert.Throws<FileNotFoundException>(() => WordPieceTrainer.TrainFromFiles(["/nonexistent/corpus.txt"], new WordPieceTrainerOptions()));
    }
}
