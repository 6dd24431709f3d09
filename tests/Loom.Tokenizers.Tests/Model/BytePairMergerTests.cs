// The heap merge (used for pieces longer than HeapThreshold) must give the ids of tiktoken's rule
// "merge the lowest-ranked adjacent pair, leftmost on a tie". Reference: a naive merge written
// straight from that rule (a list of byte strings, re-scanned after every merge), and the linear
// scan that conformance tests check against tiktoken on real text.
using System.Text;
using Loom.Tokenizers.Model;

namespace Loom.Tokenizers.Tests.Model;

public class BytePairMergerTests
{
    private static readonly TokenTable Cl100k = TiktokenEncodings.Get("cl100k_base").Tokens;
    private static readonly TokenTable R50k = TiktokenEncodings.Get("r50k_base").Tokens;

    // The rule, with nothing clever: O(n²) scans of O(n) parts.
    private static int[] NaiveMerge(TokenTable table, byte[] piece)
    {
        var parts = piece.Select(b => new[] { b }).ToList();
        while (parts.Count > 1)
        {
            int best = int.MaxValue, at = -1;
            for (int i = 0; i + 1 < parts.Count; i++)
            {
                int r = table.RankOf([.. parts[i], .. parts[i + 1]]);
                if (r < best) { best = r; at = i; }
            }
            if (at < 0) break;
            parts[at] = [.. parts[at], .. parts[at + 1]];
            parts.RemoveAt(at + 1);
        }
        return parts.Select(p => table.IdOf(p)).ToArray();
    }

    private static int[] Heap(TokenTable table, byte[] piece, List<int>? lengths = null)
    {
        var ids = new List<int>();
        int added = BytePairMerger.EncodeWithHeap(table, piece, ids, lengths);
        Assert.Equal(ids.Count, added);
        return ids.ToArray();
    }

    private static int[] Scan(TokenTable table, byte[] piece)
    {
        var ids = new List<int>();
        BytePairMerger.EncodeWithScan(table, piece, ids);
        return ids.ToArray();
    }

    public static IEnumerable<object[]> Alphabets() =>
    [
        ["ab"], ["xyz"], ["abc "], ["01"], ["aeiou"], ["=-"], ["é日"], ["\n "],
    ];

    [Theory]
    [MemberData(nameof(Alphabets))]
    public void HeapEqualsTheNaiveMergeOnRandomLongPiecesOfAFewLetters(string alphabet)
    {
        var rng = new Random(alphabet.GetHashCode(StringComparison.Ordinal) & 0xffff);
        foreach (var table in new[] { Cl100k, R50k })
        {
            foreach (int chars in new[] { 1, 2, 3, 65, 200, 1200 })
            {
                var sb = new StringBuilder();
                for (int i = 0; i < chars; i++) sb.Append(alphabet[rng.Next(alphabet.Length)]);
                byte[] piece = Encoding.UTF8.GetBytes(sb.ToString());
                var lengths = new List<int>();
                int[] heap = Heap(table, piece, lengths);
                Assert.Equal(NaiveMerge(table, piece), heap);
                Assert.Equal(piece.Length, lengths.Sum());
            }
        }
    }

    [Theory]
    [InlineData('x')]
    [InlineData(' ')]
    [InlineData('=')]
    [InlineData('0')]
    [InlineData('\n')]
    public void HeapEqualsTheNaiveMergeOnSingleCharacterRuns(char c)
    {
        foreach (var table in new[] { Cl100k, R50k })
            for (int n = 1; n <= 300; n += n < 40 ? 1 : 37)
            {
                byte[] piece = Encoding.UTF8.GetBytes(new string(c, n));
                Assert.Equal(NaiveMerge(table, piece), Heap(table, piece));
            }
    }

    [Fact]
    public void HeapEqualsTheScanOnLongerPieces()
    {
        var rng = new Random(7);
        foreach (var table in new[] { Cl100k, R50k })
        {
            byte[] run = Encoding.UTF8.GetBytes(new string('x', 6000));
            Assert.Equal(Scan(table, run), Heap(table, run));
            var sb = new StringBuilder();
            for (int i = 0; i < 6000; i++) sb.Append("ab c"[rng.Next(4)]);
            byte[] random = Encoding.UTF8.GetBytes(sb.ToString());
            Assert.Equal(Scan(table, random), Heap(table, random));
        }
    }

    [Fact]
    public void AMegabyteRunWithoutASplitPointEncodesAndRoundTrips()
    {
        // With the O(n·m) scan this piece took more than 300 s; the heap makes it O(n log n).
        var tok = TiktokenEncodings.Get("cl100k_base");
        string text = new('x', 1 << 20);
        int[] ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        // The run is one piece, so its ids are exactly the heap merge of its bytes, whose
        // agreement with the rule is checked above on shorter runs.
        Assert.Equal(Heap(Cl100k, Encoding.UTF8.GetBytes(text)), ids);
    }
}
