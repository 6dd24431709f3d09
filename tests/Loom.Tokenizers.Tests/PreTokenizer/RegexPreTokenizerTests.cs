// A pre-tokenizer pattern is checked when it is built (train and load both build one): empty,
// uncompilable and empty-matching patterns are an ArgumentException saying what is wrong, never a
// crash later in encode. Text the regex does not match is kept as its own piece (HF Split
// "Isolated", which the tokenizer.json Loom writes declares), so no character vanishes from the ids.
using System.Text;
using System.Text.Json.Nodes;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.PreTokenizer;
using Loom.Tokenizers.Trainer;

namespace Loom.Tokenizers.Tests.PreTokenizer;

public class RegexPreTokenizerTests
{
    [Theory]
    [InlineData("", "empty")]
    [InlineData("(", "cannot be compiled")]
    [InlineData("[a-", "cannot be compiled")]
    [InlineData(@"\p{Nope}+", "cannot be compiled")]
    [InlineData("a*", "empty string")]
    [InlineData(@"\p{L}+|", "empty string")]
    [InlineData(@"(?=\s)", "empty string")]
    [InlineData(@"\s*$", "empty string")]
    public void BadPatternsAreRefusedWithTheReason(string pattern, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => new RegexPreTokenizer(pattern));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void EveryShippedPatternIsAccepted()
    {
        foreach (var name in TiktokenEncodings.Names) Assert.NotNull(TiktokenEncodings.Get(name).PreTokenizer);
        Assert.NotNull(new RegexPreTokenizer(Gpt2VocabFiles.Pattern));
    }

    [Theory]
    [InlineData(@"\p{L}+", "hello, world! 42 times\n")]
    [InlineData(@" ?\p{L}+", ",,ab cd..")]
    [InlineData(@"\d", "a1b22c")]
    public void PiecesAreTheMatchesAndTheTextBetweenThem(string pattern, string text)
    {
        // Reference: Regex.Matches plus the gaps, as HF's Split(Isolated) cuts a string.
        var want = new List<(int, int)>();
        int pos = 0;
        foreach (System.Text.RegularExpressions.Match m in new System.Text.RegularExpressions.Regex(pattern).Matches(text))
        {
            if (m.Index > pos) want.Add((pos, m.Index - pos));
            want.Add((m.Index, m.Length));
            pos = m.Index + m.Length;
        }
        if (pos < text.Length) want.Add((pos, text.Length - pos));
        var got = new List<(int, int)>();
        foreach (var p in new RegexPreTokenizer(pattern).Split(text)) got.Add((p.Index, p.Length));
        Assert.Equal(want, got);
    }

    [Fact]
    public void APatternThatSkipsCharactersStillEncodesEveryCharacter()
    {
        // Before, characters between matches were dropped: "a, b" encoded as "ab".
        var bpe = BpeTrainer.Train(["hello, world! hello world\n"], new BpeTrainerOptions { VocabularySize = 270, MinFrequency = 1, Pattern = @"\p{L}+" });
        const string text = "hello, world! 42 ünïcödé\n";
        Assert.Equal(text, bpe.Tokenizer.Decode(bpe.Tokenizer.Encode(text)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a*")]
    [InlineData("(")]
    public void ATokenizerJsonWithABadPatternIsRefusedOnLoadNamingTheFile(string pattern)
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-pat-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        var bpe = BpeTrainer.Train(["abc abc abd\n"], new BpeTrainerOptions { VocabularySize = 260, MinFrequency = 1, Pattern = @"\p{L}+|\s+|[^\s\p{L}]+" });
        HuggingFaceTokenizerJson.Save(bpe.Tokenizer, path, bpe.Merges);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        root["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = pattern;
        File.WriteAllText(path, root.ToJsonString(), new UTF8Encoding(false));

        var e = Assert.Throws<FormatException>(() => TokenizerLoader.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("pattern", e.Message);
    }
}
