// The vocabulary of a byte-level BPE: each token is a byte string with an id and a merge rank.
// All token bytes live in one array; lookup by byte span goes through an open-addressing hash
// table, so neither encoding nor decoding allocates.
// Rank vs id: in tiktoken files the rank is the id. In GPT-2/Hugging Face files the rank of a
// merged token is the index of the merge that made it (single bytes rank below every merge),
// which makes "merge the adjacent pair whose concatenation has the lowest rank" (tiktoken's
// algorithm) equal to "apply the earliest merge" (HF's), except in the rare vocabularies where
// two different merges produce the same string.

namespace Loom.Tokenizers.Model;

/// <summary>Byte string ↔ (id, rank) for a byte-level BPE vocabulary.</summary>
public sealed class TokenTable
{
    private readonly byte[] _bytes;
    private readonly int[] _start;      // token index → offset in _bytes (length = next start − start)
    private readonly int[] _ids;        // token index → id
    private readonly int[] _ranks;      // token index → merge rank
    private readonly int[] _slots;      // hash slot → token index + 1 (0 = empty)
    private readonly int _mask;
    private readonly int[] _indexById;  // id → token index (−1 when the id is not a token, e.g. a special)

    /// <summary>Number of tokens.</summary>
    public int Count => _ids.Length;

    /// <summary>Largest id + 1.</summary>
    public int IdSpace => _indexById.Length;

    /// <summary>Builds the table; every byte string must be distinct and non-empty.</summary>
    public TokenTable(IReadOnlyList<(byte[] Bytes, int Id, int Rank)> tokens)
    {
        int n = tokens.Count;
        long total = 0;
        int maxId = -1;
        foreach (var t in tokens)
        {
            if (t.Bytes.Length == 0) throw new ArgumentException($"Token id {t.Id} has no bytes.");
            if (t.Id < 0) throw new ArgumentException($"Token id {t.Id} is negative.");
            total += t.Bytes.Length;
            maxId = Math.Max(maxId, t.Id);
        }
        _bytes = new byte[total];
        _start = new int[n + 1];
        _ids = new int[n];
        _ranks = new int[n];
        _indexById = new int[maxId + 1];
        Array.Fill(_indexById, -1);
        int size = 1;
        while (size < n * 2) size <<= 1;
        _slots = new int[Math.Max(size, 16)];
        _mask = _slots.Length - 1;
        int pos = 0;
        for (int i = 0; i < n; i++)
        {
            var (bytes, id, rank) = tokens[i];
            _start[i] = pos;
            bytes.CopyTo(_bytes, pos);
            pos += bytes.Length;
            _ids[i] = id;
            _ranks[i] = rank;
            if (_indexById[id] >= 0) throw new ArgumentException($"Token id {id} appears twice in the vocabulary.");
            _indexById[id] = i;
        }
        _start[n] = pos;
        for (int i = 0; i < n; i++)
        {
            var key = TokenBytes(i);
            int slot = (int)Hash(key) & _mask;
            while (_slots[slot] != 0)
            {
                if (TokenBytes(_slots[slot] - 1).SequenceEqual(key))
                    throw new ArgumentException($"The byte string of token id {_ids[i]} also belongs to id {_ids[_slots[slot] - 1]}.");
                slot = (slot + 1) & _mask;
            }
            _slots[slot] = i + 1;
        }
    }

    private ReadOnlySpan<byte> TokenBytes(int index) => _bytes.AsSpan(_start[index], _start[index + 1] - _start[index]);

    private static uint Hash(ReadOnlySpan<byte> key)
    {
        var h = new HashCode();
        h.AddBytes(key);
        return (uint)h.ToHashCode();
    }

    /// <summary>Index of the token whose bytes are <paramref name="key"/>, or −1.</summary>
    private int Find(ReadOnlySpan<byte> key)
    {
        int slot = (int)Hash(key) & _mask;
        while (true)
        {
            int s = _slots[slot];
            if (s == 0) return -1;
            int i = s - 1;
            int start = _start[i], len = _start[i + 1] - start;
            if (len == key.Length && _bytes.AsSpan(start, len).SequenceEqual(key)) return i;
            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>Merge rank of <paramref name="key"/>, or <see cref="int.MaxValue"/> when it is not a token.</summary>
    public int RankOf(ReadOnlySpan<byte> key)
    {
        int i = Find(key);
        return i < 0 ? int.MaxValue : _ranks[i];
    }

    /// <summary>Id of <paramref name="key"/>, or −1.</summary>
    public int IdOf(ReadOnlySpan<byte> key)
    {
        int i = Find(key);
        return i < 0 ? -1 : _ids[i];
    }

    /// <summary>True when <paramref name="id"/> is a (non-special) token.</summary>
    public bool ContainsId(int id) => (uint)id < (uint)_indexById.Length && _indexById[id] >= 0;

    /// <summary>The bytes of token <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> BytesOf(int id)
    {
        if (!ContainsId(id)) throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is not in this vocabulary of {Count} tokens.");
        return TokenBytes(_indexById[id]);
    }

    /// <summary>Every (bytes, id, rank), in table order.</summary>
    public IEnumerable<(byte[] Bytes, int Id, int Rank)> Entries()
    {
        for (int i = 0; i < _ids.Length; i++) yield return (TokenBytes(i).ToArray(), _ids[i], _ranks[i]);
    }
}
