// A small byte-keyed trie for the vocabulary (pieces as UTF-8) and for user-defined symbols: the
// segmenters walk it from each start position to find every piece that begins there, as sentencepiece
// walks its Darts trie (unigram_model.cc EncodeOptimized, normalizer.cc PrefixMatcher).
namespace Loom.Tokenizers.SentencePiece;

/// <summary>A trie from byte strings to non-negative values; node 0 is the root.</summary>
internal sealed class ByteTrie
{
    private readonly Dictionary<long, int> _edges = new(); // (node << 8 | byte) -> child node
    private readonly List<int> _values = [-1];              // value per node, -1 for none

    public int Count { get; private set; }

    /// <summary>Adds a key; an existing key keeps its first value (sentencepiece rejects duplicates earlier).</summary>
    public void Add(ReadOnlySpan<byte> key, int value)
    {
        int node = 0;
        foreach (byte b in key)
        {
            long edge = ((long)node << 8) | b;
            if (!_edges.TryGetValue(edge, out int child))
            {
                child = _values.Count;
                _values.Add(-1);
                _edges[edge] = child;
            }
            node = child;
        }
        if (_values[node] < 0) { _values[node] = value; Count++; }
    }

    /// <summary>Moves from <paramref name="node"/> by one byte; -1 when there is no such edge.</summary>
    public int Step(int node, byte b) => _edges.TryGetValue(((long)node << 8) | b, out int child) ? child : -1;

    /// <summary>The value stored at a node, or -1.</summary>
    public int ValueAt(int node) => _values[node];

    /// <summary>The value of exactly <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        int node = 0;
        foreach (byte b in key)
        {
            node = Step(node, b);
            if (node < 0) return -1;
        }
        return _values[node];
    }

    /// <summary>The length of the longest key that is a prefix of <paramref name="text"/>, or 0.</summary>
    public int LongestPrefix(ReadOnlySpan<byte> text)
    {
        int node = 0, best = 0;
        for (int i = 0; i < text.Length; i++)
        {
            node = Step(node, text[i]);
            if (node < 0) break;
            if (_values[node] >= 0) best = i + 1;
        }
        return best;
    }
}
