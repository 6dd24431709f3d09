// The vocabulary as sentencepiece's ModelInterface::InitializePieces sees it: "normal" pieces (NORMAL,
// USER_DEFINED, UNUSED) are what the segmenters may match; "reserved" pieces (CONTROL, UNKNOWN, BYTE) are
// looked up by PieceToId only. Exactly one UNKNOWN piece is required, and with byte_fallback all 256
// <0xNN> byte pieces.
using System.Text;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>Piece/id tables of a SentencePiece model.</summary>
internal sealed class SentencePieceVocabulary
{
    public readonly string[] Pieces;
    public readonly float[] Scores;
    public readonly SentencePieceType[] Types;
    /// <summary>NORMAL, USER_DEFINED and UNUSED pieces as UTF-8 → id (the segmenters' trie).</summary>
    public readonly ByteTrie Matchable = new();
    /// <summary>USER_DEFINED pieces (matched whole in the raw text before normalization).</summary>
    public readonly ByteTrie UserDefined = new();
    public readonly Dictionary<string, int> Reserved = new(StringComparer.Ordinal);
    public readonly Dictionary<string, int> Normal = new(StringComparer.Ordinal);
    /// <summary>Byte value → id of its &lt;0xNN&gt; piece, or -1.</summary>
    public readonly int[] ByteIds = Enumerable.Repeat(-1, 256).ToArray();
    /// <summary>Id → byte value for BYTE pieces, else -1.</summary>
    public readonly int[] ByteOf;
    public readonly int UnkId = -1;
    /// <summary>Lowest and highest NORMAL score (unigram_model.cc: min_score_ from FLT_MAX, max_score_ from FLT_MIN).</summary>
    public readonly float MinScore = float.MaxValue, MaxScore = 1.17549435E-38f;

    public SentencePieceVocabulary(IReadOnlyList<SentencePieceEntry> pieces, bool byteFallback, string source)
    {
        int n = pieces.Count;
        Pieces = new string[n];
        Scores = new float[n];
        Types = new SentencePieceType[n];
        ByteOf = new int[n];
        for (int i = 0; i < n; i++)
        {
            var p = pieces[i];
            Pieces[i] = p.Piece;
            Scores[i] = p.Score;
            Types[i] = p.Type;
            ByteOf[i] = -1;
            bool normal = p.Type is SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused;
            var table = normal ? Normal : Reserved;
            if (!table.TryAdd(p.Piece, i))
                throw new FormatException($"{source}: piece {i} \"{p.Piece}\" is already defined (id {table[p.Piece]}); a sentencepiece vocabulary has each piece once.");
            if (normal) Matchable.Add(Encoding.UTF8.GetBytes(p.Piece), i);
            if (p.Type == SentencePieceType.UserDefined) UserDefined.Add(Encoding.UTF8.GetBytes(p.Piece), i);
            if (p.Type == SentencePieceType.Normal)
            {
                MinScore = Math.Min(MinScore, p.Score);
                MaxScore = Math.Max(MaxScore, p.Score);
            }
            if (p.Type == SentencePieceType.Unknown)
            {
                if (UnkId >= 0) throw new FormatException($"{source}: pieces {UnkId} and {i} are both UNKNOWN; a model has one unknown piece.");
                UnkId = i;
            }
            if (p.Type == SentencePieceType.Byte)
            {
                int b = ParseBytePiece(p.Piece);
                if (b < 0) throw new FormatException($"{source}: piece {i} \"{p.Piece}\" is a BYTE piece but not of the form <0xNN>.");
                ByteIds[b] = i;
                ByteOf[i] = b;
            }
        }
        if (UnkId < 0) throw new FormatException($"{source}: no UNKNOWN piece; a sentencepiece model needs one (usually <unk>).");
        if (byteFallback && Array.IndexOf(ByteIds, -1) is int missing && missing >= 0)
            throw new FormatException($"{source}: trainer_spec.byte_fallback is true but byte piece <0x{missing:X2}> is missing; a byte-fallback model has all 256.");
    }

    /// <summary>sentencepiece's PieceToId: reserved pieces first, then normal ones, else the unknown id.</summary>
    public int PieceToId(string piece) =>
        Reserved.TryGetValue(piece, out int id) ? id : Normal.TryGetValue(piece, out id) ? id : UnkId;

    /// <summary>"&lt;0x4A&gt;" → 0x4A; -1 when not a byte piece.</summary>
    public static int ParseBytePiece(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && int.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out int b) ? b : -1;
}
