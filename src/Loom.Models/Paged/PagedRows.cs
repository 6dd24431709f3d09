// The per-call bookkeeping of a paged forward, shared by every family: for each new row (token) its
// sequence, its position, where its sequence's block table starts in one flat table, and for each
// sequence its last row (whose hidden state goes to the head). Arrays grow on demand and are reused,
// so a steady decode loop allocates nothing.
namespace Loom.Models.Paged;

/// <summary>Row → (position, block table) for one <see cref="IBatchedDecoder.ForwardPaged"/> call.</summary>
public sealed class PagedRows
{
    internal int[] Position = new int[16];     // (R) position of row r in its sequence
    internal int[] TableStart = new int[16];   // (R) offset of row r's block table in Tables
    internal int[] Tables = new int[16];       // concatenated block tables of the sequences
    internal int[] LastRow = new int[16];      // (n) last row of sequence i
    internal int[] Tokens = new int[16];       // (R) the row's token id

    /// <summary>Rows (new tokens) in the call.</summary>
    public int Rows { get; private set; }

    /// <summary>Sequences in the call.</summary>
    public int Sequences { get; private set; }

    /// <summary>Longest attention span of any row (its position + 1).</summary>
    public int MaxSpan { get; private set; }

    /// <summary>Checks the call and fills the row tables; throws before anything is written.</summary>
    public void Build(IReadOnlyList<KvSequence> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> counts, int contextLength, int vocabulary, KvBlockPool? pool = null)
    {
        int n = sequences.Count;
        if (counts.Length != n) throw new ArgumentException($"counts has {counts.Length} entries for {n} sequences.");
        long rows = 0, tableLength = 0;
        for (int i = 0; i < n; i++)
        {
            var s = sequences[i];
            if (pool != null && s.Pool != pool) throw new ArgumentException($"Sequence {i} uses another KV block pool.");
            if (counts[i] < 1) throw new ArgumentException($"Sequence {i} has {counts[i]} new tokens; each needs at least one.");
            int end = s.Length + counts[i];
            if (end > contextLength) throw new ArgumentException($"Sequence {i} would reach {end} positions; the model's context is {contextLength}.");
            if (end > s.Capacity) throw new InvalidOperationException($"Sequence {i} holds blocks for {s.Capacity} positions but needs {end}; reserve them first (KvSequence.TryReserve).");
            rows += counts[i];
            tableLength += s.Blocks.Count;
        }
        if (tokens.Length != rows) throw new ArgumentException($"tokens has {tokens.Length} ids; the counts add up to {rows}.");
        int R = (int)rows;
        Grow(ref Position, R); Grow(ref TableStart, R); Grow(ref Tokens, R); Grow(ref LastRow, n); Grow(ref Tables, (int)tableLength);
        int r = 0, t = 0, maxSpan = 0;
        for (int i = 0; i < n; i++)
        {
            var s = sequences[i];
            int start = t;
            t += s.CopyBlocks(Tables.AsSpan(t));
            for (int j = 0; j < counts[i]; j++, r++)
            {
                int id = tokens[r];
                if ((uint)id >= (uint)vocabulary) throw new ArgumentOutOfRangeException(nameof(tokens), id, $"Token id {id} is outside the vocabulary of {vocabulary}.");
                Tokens[r] = id;
                Position[r] = s.Length + j;
                TableStart[r] = start;
            }
            LastRow[i] = r - 1;
            maxSpan = Math.Max(maxSpan, s.Length + counts[i]);
        }
        Rows = R;
        Sequences = n;
        MaxSpan = maxSpan;
    }

    /// <summary>Advances each sequence's Length past its new rows (after the forward wrote their K/V).</summary>
    public void Commit(IReadOnlyList<KvSequence> sequences, ReadOnlySpan<int> counts)
    {
        for (int i = 0; i < sequences.Count; i++) sequences[i].Length += counts[i];
    }

    /// <summary>Row r's token id.</summary>
    public ReadOnlySpan<int> TokenIds => Tokens.AsSpan(0, Rows);

    /// <summary>Row r's position.</summary>
    public ReadOnlySpan<int> Positions => Position.AsSpan(0, Rows);

    /// <summary>Sequence i's last row.</summary>
    public ReadOnlySpan<int> LastRows => LastRow.AsSpan(0, Sequences);

    private static void Grow(ref int[] a, int n)
    {
        if (a.Length < n) a = new int[Math.Max(n, a.Length * 2)];
    }
}
