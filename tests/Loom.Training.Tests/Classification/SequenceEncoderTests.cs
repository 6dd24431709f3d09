using Loom.Tokenizers;
using Loom.Training.Classification;

namespace Loom.Training.Tests.Classification;

public class SequenceEncoderTests
{
    [Theory]
    [InlineData(TruncationPolicy.Head, new[] { 0, 1, 2, 3, 4 })]
    [InlineData(TruncationPolicy.Tail, new[] { 15, 16, 17, 18, 19 })]
    public void HeadAndTailKeepTheFirstOrLastTokens(TruncationPolicy policy, int[] expected)
    {
        var tokens = Enumerable.Range(0, 20).ToList();
        SequenceEncoder.Cut(tokens, 5, policy);
        Assert.Equal(expected, tokens);
    }

    [Fact]
    public void HeadTailKeeps128And382Of510AsSunEtAl()
    {
        // Sun et al. 2019 §5.3.1: head+tail = the first 128 and the last 382 tokens of a 510-token budget.
        var tokens = Enumerable.Range(0, 2000).ToList();
        SequenceEncoder.Cut(tokens, 510, TruncationPolicy.HeadTail);
        Assert.Equal(510, tokens.Count);
        Assert.Equal(Enumerable.Range(0, 128), tokens.Take(128));
        Assert.Equal(Enumerable.Range(2000 - 382, 382), tokens.Skip(128));
    }

    [Fact]
    public void BertInputIsClsASepBSepWithTokenTypesAndTruncationIsCounted()
    {
        string dir = TestData.Directory();
        var encoder = SequenceEncoder.Load(TestData.WordPieceTokenizer(dir));
        Assert.IsType<WordPieceSequenceEncoder>(encoder);
        int Id(string t) => Array.IndexOf(TestData.Vocabulary, t);
        var (ids, types, truncated) = encoder.Encode("The movie", "great film", 16, TruncationPolicy.Head);
        Assert.Equal([Id("[CLS]"), Id("the"), Id("movie"), Id("[SEP]"), Id("great"), Id("film"), Id("[SEP]")], ids);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], types);
        Assert.False(truncated);
        Assert.Equal(Id("[PAD]"), encoder.PadId);

        // Longest-first over the pair: 4 + 2 content tokens into a budget of 7 − 3 = 4 cuts the longer text to 2.
        (ids, _, truncated) = encoder.Encode("the movie was great", "a film", 7, TruncationPolicy.Tail);
        Assert.True(truncated);
        Assert.Equal([Id("[CLS]"), Id("was"), Id("great"), Id("[SEP]"), Id("a"), Id("film"), Id("[SEP]")], ids);
    }

    [Fact]
    public void Gpt2InputIsTheContentAloneAndPadsWithEndOfText()
    {
        var encoder = SequenceEncoder.Load("gpt2");
        var gpt2 = TiktokenEncodings.Get("gpt2");
        var (ids, types, truncated) = encoder.Encode("Hello world", null, 16, TruncationPolicy.Head);
        Assert.Equal(gpt2.EncodeOrdinary("Hello world"), ids);
        Assert.All(types, t => Assert.Equal(0, t));
        Assert.False(truncated);
        Assert.Equal(50256, encoder.PadId);   // <|endoftext|>, as HF users set pad_token = eos_token for GPT-2
    }
}
