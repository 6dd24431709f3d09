// SentencePiece BPE segmentation (bpe_model.cc Model::SampleEncode without dropout): the normalized text
// is split into characters (a user-defined symbol is one frozen symbol that never merges); every adjacent
// pair whose concatenation is a vocabulary piece goes into an agenda ordered by that piece's score (higher
// first, then leftmost); the best pair is merged and its new neighbours are pushed, until the agenda is
// empty. Stale agenda entries are recognised by their size. A merged piece of type UNUSED is split back
// into the two pieces it was made of ("resegment"). Each final symbol gets PieceToId (unknown if absent).
using System.Text;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>Score-ordered pair merging over a SentencePiece BPE vocabulary.</summary>
internal sealed class BpeSegmenter : ISentencePieceSegmenter
{
    private readonly SentencePieceVocabulary _vocab;

    private struct Symbol
    {
        public int Start, Length, Prev, Next, Id;
        public bool Freeze;
    }

    private sealed class AgendaOrder : IComparer<(float Score, int Left)>
    {
        public static readonly AgendaOrder Instance = new();
        public int Compare((float Score, int Left) a, (float Score, int Left) b) =>
            a.Score > b.Score ? -1 : a.Score < b.Score ? 1 : a.Left.CompareTo(b.Left);
    }

    public BpeSegmenter(SentencePieceVocabulary vocab) => _vocab = vocab;

    public void Segment(ReadOnlySpan<byte> text, List<PieceSpan> output)
    {
        if (text.IsEmpty) return;
        var symbols = new List<Symbol>(text.Length);
        for (int pos = 0; pos < text.Length;)
        {
            int len = _vocab.UserDefined.Count > 0 ? _vocab.UserDefined.LongestPrefix(text[pos..]) : 0;
            bool freeze = len > 0;
            if (!freeze) len = Math.Min(Utf8Chars.OneCharLen(text[pos]), text.Length - pos);
            int index = symbols.Count;
            symbols.Add(new Symbol { Start = pos, Length = len, Prev = index - 1, Next = pos + len < text.Length ? index + 1 : -1, Freeze = freeze });
            pos += len;
        }
        var sym = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(symbols);
        var agenda = new PriorityQueue<(int Left, int Right, int Size, int Id), (float, int)>(AgendaOrder.Instance);
        Dictionary<int, (int LeftId, int RightId)>? revMerge = null;

        void MaybeAdd(Span<Symbol> s, ReadOnlySpan<byte> t, int left, int right)
        {
            if (left == -1 || right == -1 || s[left].Freeze || s[right].Freeze) return;
            int id = _vocab.Matchable.Find(t.Slice(s[left].Start, s[left].Length + s[right].Length));
            if (id < 0) return;
            agenda.Enqueue((left, right, s[left].Length + s[right].Length, id), (_vocab.Scores[id], left));
            if (_vocab.Types[id] == SentencePieceType.Unused)
            {
                revMerge ??= new();
                revMerge[id] = (IdOf(s[left], t), IdOf(s[right], t));
            }
        }

        for (int i = 1; i < sym.Length; i++) MaybeAdd(sym, text, i - 1, i);
        while (agenda.TryDequeue(out var top, out _))
        {
            ref var l = ref sym[top.Left];
            ref var r = ref sym[top.Right];
            if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != top.Size) continue;
            l.Length += r.Length;
            l.Next = r.Next;
            if (r.Next >= 0) sym[r.Next].Prev = top.Left;
            r.Length = 0;
            MaybeAdd(sym, text, l.Prev, top.Left);
            MaybeAdd(sym, text, top.Left, l.Next);
        }
        for (int i = 0; i != -1; i = sym[i].Next)
        {
            int id = IdOf(sym[i], text);
            Resegment(sym[i].Start, sym[i].Length, id, revMerge, output);
        }
    }

    private int IdOf(in Symbol s, ReadOnlySpan<byte> text)
    {
        int id = _vocab.Matchable.Find(text.Slice(s.Start, s.Length));
        return id >= 0 ? id : _vocab.PieceToId(Encoding.UTF8.GetString(text.Slice(s.Start, s.Length)));
    }

    private void Resegment(int start, int length, int id, Dictionary<int, (int LeftId, int RightId)>? revMerge, List<PieceSpan> output)
    {
        if (_vocab.Types[id] != SentencePieceType.Unused || revMerge is null || !revMerge.TryGetValue(id, out var parts))
        {
            output.Add(new PieceSpan(start, length, id));
            return;
        }
        int leftLength = Encoding.UTF8.GetByteCount(_vocab.Pieces[parts.LeftId]);
        Resegment(start, leftLength, parts.LeftId, revMerge, output);
        Resegment(start + leftLength, length - leftLength, parts.RightId, revMerge, output);
    }
}
