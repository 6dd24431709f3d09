// A trie over Unicode code points for the trainers' lattices (pieces are whole characters).
namespace Loom.Tokenizers.SentencePiece;

internal sealed class CodePointTrie
{
    private readonly Dictionary<long, int> _edges = new();
    private readonly List<int> _values = [-1];

    public CodePointTrie(IReadOnlyList<int[]> keys)
    {
        for (int i = 0; i < keys.Count; i++)
        {
            int node = 0;
            foreach (int c in keys[i])
            {
                long e = ((long)node << 21) | (uint)c;
                if (!_edges.TryGetValue(e, out int child)) { child = _values.Count; _values.Add(-1); _edges[e] = child; }
                node = child;
            }
            if (_values[node] < 0) _values[node] = i;
        }
    }

    /// <summary>Adds (end, key index) to <paramref name="output"/> for every key that starts at <paramref name="start"/>.</summary>
    public void Matches(ReadOnlySpan<int> text, int start, List<(int End, int Id)> output)
    {
        int node = 0;
        for (int i = start; i < text.Length; i++)
        {
            if (!_edges.TryGetValue(((long)node << 21) | (uint)text[i], out node)) return;
            if (_values[node] >= 0) output.Add((i + 1, _values[node]));
        }
    }
}
