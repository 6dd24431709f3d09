// The byte-pair merge loop of tiktoken (src/lib.rs, _byte_pair_merge): start from single bytes,
// and repeatedly merge the adjacent pair whose concatenation has the lowest rank (the leftmost
// one on a tie), until no adjacent pair is a token.
// Two implementations of the same rule:
//  - a linear scan (tiktoken's): `parts` holds (start offset, rank of the pair beginning here);
//    each merge scans for the minimum and shifts the tail. O(n·m) for n bytes and m merges, but
//    with no setup and its scratch on the stack, it is the fastest on words (most pieces);
//  - a min-heap of candidate pairs keyed by (rank, start offset) over a doubly linked list of
//    parts, with lazy invalidation (Hugging Face tokenizers' Word::merge_all): O(n log n) on any
//    piece, so a 1 MB run of one character with no split point encodes in well under a second
//    instead of minutes. Both pick the same pair at every step (min rank, then leftmost start),
//    so their ids are identical (tested on random long pieces against the scan and a naive merge).
using System.Buffers;

namespace Loom.Tokenizers.Model;

internal static class BytePairMerger
{
    private const int StackLimit = 256;

    /// <summary>
    /// Pieces longer than this (bytes) use the heap. Measured on cl100k (runs of one letter, random
    /// letters, a repeated word): the scan is 2-4× faster at 8 bytes, equal at 32, and slower above
    /// (1.4× at 64, 3-16× at 1 KB). Most pieces of ordinary text are shorter than 32 bytes.
    /// </summary>
    internal const int HeapThreshold = 32;

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
        return piece.Length > HeapThreshold
            ? EncodeWithHeap(table, piece, ids, tokenByteLengths)
            : EncodeWithScan(table, piece, ids, tokenByteLengths);
    }

    /// <summary>The linear-scan merge (tiktoken's loop); O(n·m), fastest on short pieces.</summary>
    internal static int EncodeWithScan(TokenTable table, ReadOnlySpan<byte> piece, List<int> ids, List<int>? tokenByteLengths = null)
    {
        int n = piece.Length;
        int[]? rented = null;
        Span<int> start = n + 1 <= StackLimit ? stackalloc int[StackLimit] : (rented = ArrayPool<int>.Shared.Rent(2 * (n + 1)));
        Span<int> rank = n + 1 <= StackLimit ? stackalloc int[StackLimit] : rented.AsSpan(n + 1);
        try
        {
            int parts = n + 1;
            for (int i = 0; i < parts; i++) start[i] = i;
            for (int i = 0; i < parts - 2; i++) rank[i] = table.RankOf(piece.Slice(i, 2));
            if (parts >= 2) rank[parts - 2] = int.MaxValue;
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
            for (int i = 0; i < parts - 1; i++) added += Emit(table, piece[start[i]..start[i + 1]], ids, tokenByteLengths);
            return added;
        }
        finally
        {
            if (rented != null) ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>The heap merge (HF tokenizers' word merge); O(n log n) on any piece.</summary>
    internal static int EncodeWithHeap(TokenTable table, ReadOnlySpan<byte> piece, List<int> ids, List<int>? tokenByteLengths = null)
    {
        int n = piece.Length;
        if (n == 0) return 0;
        // Parts are identified by their start offset p; next[p] is the start of the following part
        // (n after the last), prev[p] the start of the preceding one (−1 before the first).
        // pairRank[p] is the rank of the token part(p)+part(next[p]) would make, int.MaxValue when
        // there is none or when p is no longer the start of a part. A heap entry (rank, p) is live
        // only while pairRank[p] == rank; a stale entry with the same key describes the same
        // current pair, so acting on it is still the right step.
        int[] next = ArrayPool<int>.Shared.Rent(n);
        int[] prev = ArrayPool<int>.Shared.Rent(n);
        int[] pairRank = ArrayPool<int>.Shared.Rent(n);
        // Every merge pushes at most 2 entries and there are at most n−1 merges: ≤ 3n entries.
        long[] heap = ArrayPool<long>.Shared.Rent(3 * n);
        try
        {
            int count = 0;
            for (int p = 0; p < n; p++)
            {
                next[p] = p + 1;
                prev[p] = p - 1;
                int r = p + 1 < n ? table.RankOf(piece.Slice(p, 2)) : int.MaxValue;
                pairRank[p] = r;
                if (r != int.MaxValue) heap[count++] = Key(r, p);
            }
            // Heapify bottom-up: O(n).
            for (int i = count / 2 - 1; i >= 0; i--) SiftDown(heap, count, i);
            while (count > 0)
            {
                long top = heap[0];
                heap[0] = heap[--count];
                if (count > 0) SiftDown(heap, count, 0);
                int rank = (int)(top >> 32), p = (int)(uint)top;
                if (pairRank[p] != rank) continue; // stale
                // Merge part p with part q = next[p].
                int q = next[p];
                int after = next[q];
                next[p] = after;
                if (after < n) prev[after] = p;
                pairRank[q] = int.MaxValue; // q is no longer a part start
                // The pair beginning at p now reaches to next[after]; the one at prev[p] ends at after.
                int r = after < n ? table.RankOf(piece[p..next[after]]) : int.MaxValue;
                pairRank[p] = r;
                if (r != int.MaxValue) Push(heap, ref count, Key(r, p));
                int left = prev[p];
                if (left >= 0)
                {
                    int lr = table.RankOf(piece[left..after]);
                    pairRank[left] = lr;
                    if (lr != int.MaxValue) Push(heap, ref count, Key(lr, left));
                }
            }
            int added = 0;
            for (int p = 0; p < n; p = next[p]) added += Emit(table, piece[p..next[p]], ids, tokenByteLengths);
            return added;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(next);
            ArrayPool<int>.Shared.Return(prev);
            ArrayPool<int>.Shared.Return(pairRank);
            ArrayPool<long>.Shared.Return(heap);
        }
    }

    // Orders by rank, then by start offset (the leftmost pair wins a tie, as in tiktoken's scan).
    private static long Key(int rank, int start) => ((long)rank << 32) | (uint)start;

    private static void Push(long[] heap, ref int count, long key)
    {
        int i = count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (heap[parent] <= key) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    private static void SiftDown(long[] heap, int count, int i)
    {
        long key = heap[i];
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= count) break;
            if (child + 1 < count && heap[child + 1] < heap[child]) child++;
            if (heap[child] >= key) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = key;
    }

    private static int Emit(TokenTable table, ReadOnlySpan<byte> tok, List<int> ids, List<int>? tokenByteLengths)
    {
        int id = table.IdOf(tok);
        if (id < 0) throw new InvalidDataException($"The vocabulary has no token for the byte sequence {Convert.ToHexString(tok)}; it is missing single-byte tokens.");
        ids.Add(id);
        tokenByteLengths?.Add(tok.Length);
        return 1;
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
