// The WordPiece model (Schuster & Nakajima 2012; as BERT and Hugging Face's models/wordpiece apply it):
// greedy longest-match-first. From the start of a word, take the longest prefix in the vocabulary;
// then from where it ended, the longest "##"-prefixed continuation; and so on. If some position has
// no match, or the word is longer than max_input_chars_per_word code points (100), the whole word is
// the unknown token. Lookups take spans (no string per candidate): continuation pieces live in their
// own table without the "##", so "##" + piece is never built.
namespace Loom.Tokenizers.Model;

/// <summary>A WordPiece vocabulary and its greedy longest-match-first segmentation.</summary>
public sealed class WordPieceModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _starts;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuations;
    private readonly string?[] _tokens;

    /// <summary>Creates the model from token → id (ids need not be dense; a duplicate text keeps its last id, as HF).</summary>
    public WordPieceModel(IReadOnlyDictionary<string, int> vocabulary, string unknownToken = "[UNK]",
        string continuingSubwordPrefix = "##", int maxInputCharsPerWord = 100)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(unknownToken);
        ArgumentNullException.ThrowIfNull(continuingSubwordPrefix);
        if (maxInputCharsPerWord < 0)
            throw new ArgumentException($"max_input_chars_per_word must be >= 0, got {maxInputCharsPerWord}.", nameof(maxInputCharsPerWord));
        _vocab = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        // With an empty prefix a continuation is looked up as the bare piece, as HF ("" + piece).
        var continuations = continuingSubwordPrefix.Length == 0 ? _vocab : new Dictionary<string, int>(StringComparer.Ordinal);
        int maxId = -1;
        foreach (var (token, id) in _vocab)
        {
            if (id < 0) throw new ArgumentException($"Token '{token}' has a negative id ({id}).", nameof(vocabulary));
            maxId = Math.Max(maxId, id);
            if (continuingSubwordPrefix.Length > 0 && token.StartsWith(continuingSubwordPrefix, StringComparison.Ordinal))
                continuations[token[continuingSubwordPrefix.Length..]] = id;
        }
        _tokens = new string?[maxId + 1];
        foreach (var (token, id) in _vocab) _tokens[id] = token;
        _starts = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuations = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        UnknownToken = unknownToken;
        UnknownId = _vocab.TryGetValue(unknownToken, out int unk) ? unk : -1;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
    }

    /// <summary>The unknown token ("[UNK]").</summary>
    public string UnknownToken { get; }

    /// <summary>Id of the unknown token, or -1 when the vocabulary lacks it (then an unknown word is an error).</summary>
    public int UnknownId { get; }

    /// <summary>Prefix of pieces that continue a word ("##").</summary>
    public string ContinuingSubwordPrefix { get; }

    /// <summary>Longer words (in code points) are the unknown token. Default 100.</summary>
    public int MaxInputCharsPerWord { get; }

    /// <summary>Token → id.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    /// <summary>Largest id + 1.</summary>
    public int IdSpace => _tokens.Length;

    /// <summary>The token of <paramref name="id"/>, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    /// <summary>The id of <paramref name="token"/>, or null.</summary>
    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>
    /// Segments one word, appending (id, start, end) per piece, offsets in UTF-16 units of <paramref name="word"/>.
    /// Returns the number of pieces appended.
    /// </summary>
    public int Tokenize(ReadOnlySpan<char> word, List<(int Id, int Start, int End)> pieces)
    {
        if (word.IsEmpty) return 0;
        if (CodePointCount(word) > MaxInputCharsPerWord) return Unknown(word, pieces);
        int first = pieces.Count;
        int start = 0;
        while (start < word.Length)
        {
            int end = word.Length;
            int id = -1;
            while (start < end)
            {
                var piece = word[start..end];
                if (start == 0 ? _starts.TryGetValue(piece, out id) : _continuations.TryGetValue(piece, out id)) break;
                id = -1;
                // Step back one code point (HF steps back one char, never splitting a surrogate pair).
                end -= end - 2 >= start && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }
            if (id < 0)
            {
                pieces.RemoveRange(first, pieces.Count - first);
                return Unknown(word, pieces);
            }
            pieces.Add((id, start, end));
            start = end;
        }
        return pieces.Count - first;
    }

    private int Unknown(ReadOnlySpan<char> word, List<(int Id, int Start, int End)> pieces)
    {
        if (UnknownId < 0)
            throw new InvalidOperationException($"The word '{word}' has no WordPiece segmentation and the vocabulary has no unknown token '{UnknownToken}'; add it to the vocabulary.");
        pieces.Add((UnknownId, 0, word.Length));
        return 1;
    }

    private static int CodePointCount(ReadOnlySpan<char> s)
    {
        int n = s.Length;
        for (int i = 1; i < s.Length; i++)
            if (char.IsLowSurrogate(s[i]) && char.IsHighSurrogate(s[i - 1])) n--;
        return n;
    }
}
