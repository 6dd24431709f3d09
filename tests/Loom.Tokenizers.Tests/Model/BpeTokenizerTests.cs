using System.Text;
using Loom.Tokenizers.Formats;

namespace Loom.Tokenizers.Tests.Model;

public class BpeTokenizerTests
{
    private static readonly BpeTokenizer Cl100k = TiktokenEncodings.Get("cl100k_base");

    [Fact]
    public void DisallowedSpecialTextIsAnErrorByDefaultAndTextWhenAsked()
    {
        var ex = Assert.Throws<DisallowedSpecialTokenException>(() => Cl100k.Encode("a <|endoftext|> b"));
        Assert.Contains("<|endoftext|>", ex.Message);
        Assert.Contains("index 2", ex.Message);
        int[] plain = Cl100k.Encode("a <|endoftext|> b", SpecialTokenPolicy.PlainText);
        Assert.DoesNotContain(100257, plain);
        Assert.Equal("a <|endoftext|> b", Cl100k.Decode(plain));
        Assert.Contains(100257, Cl100k.Encode("a <|endoftext|> b", SpecialTokenPolicy.Allow("<|endoftext|>")));
        // Allowing one special still rejects another.
        Assert.Throws<DisallowedSpecialTokenException>(() => Cl100k.Encode("<|endoftext|><|fim_prefix|>", SpecialTokenPolicy.Allow("<|endoftext|>")));
        Assert.Equal([100257, 100258], Cl100k.Encode("<|endoftext|><|fim_prefix|>", SpecialTokenPolicy.All));
    }

    [Fact]
    public void TheDisallowedSpecialErrorCarriesTheTokenAndSaysWhatToDoInLibraryTerms()
    {
        var e = Assert.Throws<DisallowedSpecialTokenException>(() => Cl100k.Encode("ab <|endoftext|>"));
        Assert.Equal("<|endoftext|>", e.Token);
        Assert.Equal(3, e.Index);
        Assert.Contains("SpecialTokenPolicy.All", e.Message);
        Assert.Contains("SpecialTokenPolicy.PlainText", e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e); // callers catching ArgumentException still do
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("naïve café — 東京 👨‍👩‍👧 😀!")]
    [InlineData("  multiple   spaces\r\n\tand tabs\n\n")]
    public void OffsetsSliceTheInput(string text)
    {
        var (ids, offsets) = Cl100k.EncodeWithOffsets(text);
        Assert.Equal(Cl100k.Encode(text), ids);
        Assert.Equal(ids.Length, offsets.Length);
        int covered = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            var (start, length) = offsets[i].GetOffsetAndLength(text.Length);
            Assert.True(start <= covered, $"token {i} starts at {start}, after {covered}: a gap");
            Assert.True(length > 0);
            // A token's bytes are a part of the UTF-8 of its span.
            byte[] spanBytes = Encoding.UTF8.GetBytes(text.Substring(start, length));
            byte[] tokenBytes = Cl100k.TokenBytes(ids[i]).ToArray();
            Assert.True(spanBytes.AsSpan().IndexOf(tokenBytes) >= 0, $"token {i} bytes are not inside \"{text.Substring(start, length)}\"");
            covered = Math.Max(covered, start + length);
        }
        Assert.Equal(text.Length, covered);
    }

    [Fact]
    public void StreamingDecoderNeverEmitsHalfACharacter()
    {
        string text = "emoji 😀 and 👨‍👩‍👧‍👦 and 東京 done";
        int[] ids = Cl100k.Encode(text);
        var decoder = Cl100k.CreateStreamingDecoder();
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string piece = decoder.Push(id);
            Assert.DoesNotContain('\uFFFD', piece);
            if (piece.Length > 0) Assert.False(char.IsHighSurrogate(piece[^1]), "a piece ends inside a surrogate pair");
            sb.Append(piece);
        }
        sb.Append(decoder.Flush());
        Assert.Equal(text, sb.ToString());
        // 😀 is split across tokens in cl100k: the first of them yields nothing.
        Assert.True(Cl100k.Encode("😀").Length > 1);
    }

    [Fact]
    public void LoneSurrogatesBecomeReplacementCharacterAsInTiktoken()
    {
        // tiktoken (Python) re-encodes lone surrogates as U+FFFD before encoding.
        string lone = "a\uD800b";
        Assert.Equal(Cl100k.Encode("a\uFFFDb"), Cl100k.Encode(lone));
        Assert.Equal("a\uFFFDb", Cl100k.Decode(Cl100k.Encode(lone)));
    }

    [Fact]
    public void InvalidUtf8DecodesToReplacementCharacters()
    {
        int[] ids = Cl100k.EncodeBytes([0x68, 0x69, 0xFF, 0xC3]);
        Assert.Equal(new byte[] { 0x68, 0x69, 0xFF, 0xC3 }, Cl100k.DecodeBytes(ids));
        Assert.Equal("hi\uFFFD\uFFFD", Cl100k.Decode(ids));
    }

    [Fact]
    public void UnknownIdAndUnknownNameAreNamed()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Cl100k.Decode([5, 999_999]));
        Assert.Contains("999999", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => TiktokenEncodings.Get("cl99k"));
        Assert.Contains("cl100k_base", ex2.Message);
    }

    [Fact]
    public void PossessiveQuantifiersBecomeAtomicGroups()
    {
        Assert.Equal(@" ?(?>\p{L}+)|(?>\s+)\z|(?>[^\r\n]?)x|(?>\p{N}{1,3})",
            global::Loom.Tokenizers.PreTokenizer.RegexPreTokenizer.TranslateToDotNet(@" ?\p{L}++|\s++$|[^\r\n]?+x|\p{N}{1,3}+"));
        Assert.Equal(@"(?i:'s|'t)|\s+(?!\S)", global::Loom.Tokenizers.PreTokenizer.RegexPreTokenizer.TranslateToDotNet(@"(?i:'s|'t)|\s+(?!\S)"));
    }

    [Fact]
    public void EncodeAllocatesNothingPerTokenOnceWarm()
    {
        string text = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 50));
        var ids = new List<int>(4096);
        Cl100k.Encode(text, ids);
        ids.Clear();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) { ids.Clear(); Cl100k.Encode(text, ids); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(Cl100k.Encode(text), ids);
    }
}
