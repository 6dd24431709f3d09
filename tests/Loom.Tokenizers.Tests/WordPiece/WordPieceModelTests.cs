// WordPieceModel against a naive transcription of BERT's greedy longest-match-first
// (google-research/bert tokenization.py WordpieceTokenizer): for each start, try every end from the
// longest down, building "##" + substring strings, on random words over a small alphabet with
// astral characters, against random vocabularies.
using Loom.Tokenizers.Model;

namespace Loom.Tokenizers.Tests.WordPiece;

public sealed class WordPieceModelTests
{
    private static List<string>? Naive(string[] chars, HashSet<string> vocab, int maxChars)
    {
        if (chars.Length > maxChars) return null;
        var output = new List<string>();
        int start = 0;
        while (start < chars.Length)
        {
            string? current = null;
            int end = chars.Length;
            for (; end > start; end--)
            {
                string sub = string.Concat(chars[start..end]);
                if (start > 0) sub = "##" + sub;
                if (vocab.Contains(sub)) { current = sub; break; }
            }
            if (current is null) return null;
            output.Add(current);
            start = end;
        }
        return output;
    }

    [Fact]
    public void GreedyLongestMatchEqualsTheNaiveAlgorithm()
    {
        var rng = new Random(12);
        string[] alphabet = ["a", "b", "c", "é", "😀", "𠀀"];
        string RandomWord(int max) => string.Concat(Enumerable.Range(0, rng.Next(1, max + 1)).Select(_ => alphabet[rng.Next(alphabet.Length)]));
        for (int trial = 0; trial < 200; trial++)
        {
            var vocab = new HashSet<string>(StringComparer.Ordinal) { "[UNK]" };
            int size = rng.Next(1, 40);
            for (int i = 0; i < size; i++) vocab.Add((rng.Next(2) == 0 ? "##" : "") + RandomWord(4));
            int maxChars = rng.Next(3, 12);
            var model = new WordPieceModel(vocab.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i), "[UNK]", "##", maxChars);
            for (int w = 0; w < 30; w++)
            {
                string word = RandomWord(14);
                var chars = word.EnumerateRunes().Select(r => r.ToString()).ToArray();
                var expected = Naive(chars, vocab, maxChars) ?? ["[UNK]"];
                var pieces = new List<(int Id, int Start, int End)>();
                model.Tokenize(word, pieces);
                Assert.Equal(expected, pieces.Select(p => model.IdToToken(p.Id)!));
                // Offsets tile the word (or cover it whole for [UNK]) and never split a surrogate pair.
                if (expected[0] != "[UNK]" || vocab.Contains("[UNK]") && pieces.Count > 1)
                {
                    Assert.Equal(0, pieces[0].Start);
                    Assert.Equal(word.Length, pieces[^1].End);
                    for (int i = 1; i < pieces.Count; i++) Assert.Equal(pieces[i - 1].End, pieces[i].Start);
                    foreach (var p in pieces)
                    {
                        string text = model.IdToToken(p.Id)!;
                        Assert.Equal(text.StartsWith("##") && p.Start > 0 ? text[2..] : text, word[p.Start..p.End]);
                    }
                }
            }
        }
    }

    [Fact]
    public void MaxInputCharsPerWordCountsCodePointsNotUtf16Units()
    {
        var model = new WordPieceModel(new Dictionary<string, int> { ["[UNK]"] = 0, ["😀"] = 1, ["##😀"] = 2 }, maxInputCharsPerWord: 3);
        var pieces = new List<(int, int, int)>();
        model.Tokenize("😀😀😀", pieces); // 6 UTF-16 units, 3 code points: not too long
        Assert.Equal([1, 2, 2], pieces.Select(p => p.Item1));
        pieces.Clear();
        model.Tokenize("😀😀😀😀", pieces);
        Assert.Equal([(0, 0, 8)], pieces);
    }

    [Fact]
    public void AnUnknownWordWithoutAnUnknownTokenIsANamedError()
    {
        var model = new WordPieceModel(new Dictionary<string, int> { ["a"] = 0 });
        var e = Assert.Throws<InvalidOperationException>(() => model.Tokenize("b", new List<(int, int, int)>()));
        Assert.Contains("[UNK]", e.Message);
    }
}
