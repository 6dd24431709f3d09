// The byte-pair merge loop of tiktoken (src/lib.rs, _byte_pair_merge): start from single bytes,
// and repeatedly merge the adjacent pair whose concatenation has the lowest rank, until no
// adjacent pair is a token. `parts` holds (start offset, rank of the pair beginning here);
// after a merge only the two neighbouring ranks change. O(n·m) for a piece of n bytes and m
// merges; pieces are words, so n is small, and the scratch lives on the stack.
using System.Buffers;

namespace Loom.Tokenizers.Model;

internal static class BytePairMerger
{
    private const int StackLimit = 256;

    /// <summary>Appends the ids of <paramref name="piece"/> to <paramref name="ids"/>; returns how many were added.</summary>
    public static int Encode(TokenTable table, ReadOnlySpan<byte> piece, List<int> ids, List<int>? tokenByteLengths = null)
    {
        int whole = table.IdOf(piece);
        if (whole >= 0)
        {
            ids.Add(whole);
            tokenByteLengths?.Add(piece.Length);
            return 1;
        }
        int n = piece.Length;
        int[]? rented = null;
        Span<int> start = n + 1 <= StackLimit ? stackalloc int[StackLimit] : (rented = ArrayPool<int>.Shared.Rent(2 * (n + 1)));
        Span<int> rank = n + 1 <= StackLimit ? stackalloc int[StackLimit] : rented.AsSpan(n + 1);
        try
        {
            int parts = n + 1;
            for (int i = 0; i < parts; i++) start[i] = i;
            for (int i = 0; i < parts - 2; i++) rank[i] = table.RankOf(piece.Slice(i, 2));
            rank[parts - 2] = int.MaxValue;
            rank[parts - 1] = int.MaxValue;
            while (parts > 1)
            {
                int best = int.MaxValue, at = -1;
                for (int i = 0; i < parts - 1; i++)
                    if (rank[i] < best) { best = rank[i]; at = i; }
                if (at < 0) break;
                // Merge part `at` with part `at+1`: drop start[at+1], then recompute the ranks of
                // the pairs that begin at `at` and at `at−1`.
                for (int i = at + 1; i < parts - 1; i++) { start[i] = start[i + 1]; rank[i] = rank[i + 1]; }
                parts--;
                rank[at] = PairRank(table, piece, start, parts, at);
                if (at > 0) rank[at - 1] = PairRank(table, piece, start, parts, at - 1);
            }
            int added = 0;
            for (int i = 0; i < parts - 1; i++)
            {
                var tok = piece[start[i]..start[i + 1]];
                int id = table.IdOf(tok);
                if (id < 0) throw new InvalidOperationException($"The vocabulary has no token for the byte sequence {Convert.ToHexString(tok)}; it is missing single-byte tokens.");
                ids.Add(id);
                tokenByteLengths?.Add(tok.Length);
                added++;
            }
            return added;
        }
        finally
        {
            if (rented != null) ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Part lengths of <paramref name="piece"/> after applying only merges ranked below
    /// <paramref name="maxRank"/> (used to recover a merge list from ranks).
    /// </summary>
    public static List<int> Split(TokenTable table, ReadOnlySpan<byte> piece, int maxRank)
    {
        int n = piece.Length;
        var start = new int[n + 1];
        var rank = new int[n + 1];
        int parts = n + 1;
        for (int i = 0; i < parts; i++) start[i] = i;
        for (int i = 0; i < parts - 2; i++) rank[i] = table.RankOf(piece.Slice(i, 2));
        rank[parts - 2] = rank[parts - 1] = int.MaxValue;
        while (parts > 1)
        {
            int best = int.MaxValue, at = -1;
            for (int i = 0; i < parts - 1; i++)
                if (rank[i] < best) { best = rank[i]; at = i; }
            if (at < 0 || best >= maxRank) break;
            for (int i = at + 1; i < parts - 1; i++) { start[i] = start[i + 1]; rank[i] = rank[i + 1]; }
            parts--;
            rank[at] = PairRank(table, piece, start, parts, at);
            if (at > 0) rank[at - 1] = PairRank(table, piece, start, parts, at - 1);
        }
        var lengths = new List<int>(parts - 1);
        for (int i = 0; i < parts - 1; i++) lengths.Add(start[i + 1] - start[i]);
        return lengths;
    }

    // Rank of the token made by joining parts i and i+1 (spanning start[i]..start[i+2]).
    private static int PairRank(TokenTable table, ReadOnlySpan<byte> piece, Span<int> start, int parts, int i) =>
        i + 2 < parts ? table.RankOf(piece[start[i]..start[i + 2]]) : int.MaxValue;
}
