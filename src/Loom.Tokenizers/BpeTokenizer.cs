// A byte-level BPE tokenizer, the pipeline of Hugging Face tokenizers in miniature:
//   special-token split → regex pre-tokenizer → UTF-8 bytes → byte-pair merges (model) → ids,
// and back: ids → bytes → UTF-8 text (decoder). It reproduces tiktoken's encode() id for id,
// and reads GPT-2, tiktoken and Hugging Face vocabularies (Formats/).
// Speed: most pieces (words) repeat, so the ids of each piece are cached by its text; a cache
// hit allocates nothing. Thread-safe: encode from several threads at once.
using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Loom.Tokenizers.Decoder;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers;

/// <summary>A byte-level BPE tokenizer (GPT-2, tiktoken and compatible vocabularies).</summary>
public sealed class BpeTokenizer
{
    private const int MaxCacheEntries = 1 << 18;
    private const int MaxCachedPieceLength = 64;

    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private readonly (string Text, int Id)[] _specials;
    private int _cacheEntries; // ConcurrentDictionary.Count takes every lock; count adds ourselves
    private readonly Dictionary<int, byte[]> _specialBytes = new();

    /// <summary>Name of the encoding (e.g. cl100k_base) or the file it came from.</summary>
    public string Name { get; }

    /// <summary>The vocabulary of ordinary tokens.</summary>
    public TokenTable Tokens { get; }

    /// <summary>The pre-tokenizer.</summary>
    public RegexPreTokenizer PreTokenizer { get; }

    /// <summary>Special tokens by text.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Largest id + 1, specials included: the embedding table's minimum row count.</summary>
    public int VocabularySize { get; }

    /// <summary>Creates a tokenizer from its parts.</summary>
    public BpeTokenizer(string name, TokenTable tokens, RegexPreTokenizer preTokenizer, IReadOnlyDictionary<string, int> specialTokens)
    {
        Name = name;
        Tokens = tokens;
        PreTokenizer = preTokenizer;
        SpecialTokens = specialTokens;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        int size = tokens.IdSpace;
        foreach (var (text, id) in specialTokens)
        {
            if (string.IsNullOrEmpty(text)) throw new ArgumentException("A special token has empty text.");
            if (tokens.ContainsId(id)) throw new ArgumentException($"Special token '{text}' has id {id}, which an ordinary token already uses.");
            _specialBytes[id] = Encoding.UTF8.GetBytes(text);
            size = Math.Max(size, id + 1);
        }
        // Longest first, so that when two specials start at the same index the longer wins.
        _specials = specialTokens.Select(kv => (kv.Key, kv.Value)).OrderByDescending(s => s.Key.Length).ToArray();
        VocabularySize = size;
    }

    /// <summary>Encodes <paramref name="text"/>; by default special-token text in it is an error (as tiktoken).</summary>
    /// <exception cref="DisallowedSpecialTokenException">The text holds special-token text the policy does not allow.</exception>
    public int[] Encode(string text, SpecialTokenPolicy? policy = null)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids, policy);
        return ids.ToArray();
    }

    /// <summary>Encodes with every special-token string treated as plain text (tiktoken's encode_ordinary).</summary>
    public int[] EncodeOrdinary(string text) => Encode(text, SpecialTokenPolicy.PlainText);

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>; allocation-free once the cache is warm.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, SpecialTokenPolicy? policy = null)
    {
        policy ??= SpecialTokenPolicy.None;
        if (!policy.DisallowedAsText) CheckDisallowed(text, policy);
        EncodeCore(text, ids, policy, offsets: null, out _);
    }

    /// <summary>Encodes and returns, for each token, the range of chars of <paramref name="text"/> it came from.</summary>
    /// <remarks>A token that covers part of a character (a multi-token emoji) maps to the whole character.</remarks>
    public (int[] Ids, Range[] Offsets) EncodeWithOffsets(string text, SpecialTokenPolicy? policy = null)
    {
        policy ??= SpecialTokenPolicy.None;
        if (!policy.DisallowedAsText) CheckDisallowed(text, policy);
        var ids = new List<int>();
        var offsets = new List<Range>();
        EncodeCore(text, ids, policy, offsets, out _);
        return (ids.ToArray(), offsets.ToArray());
    }

    /// <summary>
    /// Encodes raw bytes that may not be valid UTF-8, as tiktoken's _encode_bytes: the valid prefix is
    /// encoded as text, then the last piece and the invalid tail are merged as bytes.
    /// </summary>
    public int[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        int valid = ValidUtf8Prefix(bytes);
        string text = Encoding.UTF8.GetString(bytes[..valid]);
        var ids = new List<int>();
        EncodeCore(text, ids, SpecialTokenPolicy.PlainText, null, out int lastPieceTokens);
        if (valid == bytes.Length) return ids.ToArray();
        // tiktoken's _increase_last_piece_token_len: whitespace-only tokens before the last piece
        // join it, since the regex might have split them differently with the tail present.
        if (lastPieceTokens > 0 && IsAllWhitespace(ids[^lastPieceTokens]))
            while (lastPieceTokens < ids.Count && IsAllWhitespace(ids[ids.Count - lastPieceTokens - 1])) lastPieceTokens++;
        var unstable = new List<byte>();
        for (int i = ids.Count - lastPieceTokens; i < ids.Count; i++) unstable.AddRange(Tokens.BytesOf(ids[i]).ToArray());
        unstable.AddRange(bytes[valid..].ToArray());
        ids.RemoveRange(ids.Count - lastPieceTokens, lastPieceTokens);
        BytePairMerger.Encode(Tokens, unstable.ToArray(), ids);
        return ids.ToArray();
    }

    /// <summary>The bytes of <paramref name="ids"/> concatenated (special tokens as their UTF-8 text).</summary>
    public byte[] DecodeBytes(ReadOnlySpan<int> ids)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (int id in ids) buffer.Write(TokenBytes(id));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The text of <paramref name="ids"/>; invalid UTF-8 becomes U+FFFD (tiktoken's errors="replace").</summary>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    /// <summary>A decoder for a stream of ids that never splits a character.</summary>
    public StreamingDecoder CreateStreamingDecoder() => new(this);

    /// <summary>The bytes of one token.</summary>
    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        if (_specialBytes.TryGetValue(id, out var special)) return special;
        if (!Tokens.ContainsId(id))
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is not in the vocabulary of {Name} (size {VocabularySize}).");
        return Tokens.BytesOf(id);
    }

    internal int TokenBytes(int id, ref byte[] buffer)
    {
        var b = TokenBytes(id);
        if (buffer.Length < b.Length) buffer = new byte[Math.Max(b.Length, buffer.Length * 2)];
        b.CopyTo(buffer);
        return b.Length;
    }

    private void CheckDisallowed(ReadOnlySpan<char> text, SpecialTokenPolicy policy)
    {
        foreach (var (special, _) in _specials)
        {
            if (policy.IsAllowed(special)) continue;
            int at = text.IndexOf(special.AsSpan(), StringComparison.Ordinal);
            if (at >= 0) throw new DisallowedSpecialTokenException(special, at);
        }
    }

    private void EncodeCore(ReadOnlySpan<char> text, List<int> ids, SpecialTokenPolicy policy, List<Range>? offsets, out int lastPieceTokens)
    {
        lastPieceTokens = 0;
        int pos = 0;
        while (pos <= text.Length)
        {
            // The next allowed special, earliest first, longest on a tie.
            int next = text.Length, nextId = -1, nextLen = 0;
            if (policy.Allowed is null || policy.Allowed.Count > 0)
            {
                foreach (var (special, id) in _specials)
                {
                    if (!policy.IsAllowed(special)) continue;
                    int at = text[pos..].IndexOf(special.AsSpan(), StringComparison.Ordinal);
                    if (at >= 0 && pos + at < next) { next = pos + at; nextId = id; nextLen = special.Length; }
                }
            }
            var segment = text[pos..next];
            foreach (var m in PreTokenizer.Split(segment))
                lastPieceTokens = EncodePiece(segment.Slice(m.Index, m.Length), pos + m.Index, ids, offsets);
            if (nextId < 0) break;
            ids.Add(nextId);
            offsets?.Add(new Range(next, next + nextLen));
            lastPieceTokens = 0;
            pos = next + nextLen;
        }
    }

    private int EncodePiece(ReadOnlySpan<char> piece, int pieceStart, List<int> ids, List<Range>? offsets)
    {
        if (offsets == null && _cacheLookup.TryGetValue(piece, out var cached))
        {
            ids.AddRange(cached);
            return cached.Length;
        }
        int maxBytes = Encoding.UTF8.GetMaxByteCount(piece.Length);
        byte[]? rented = null;
        Span<byte> buffer = maxBytes <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            int n = Encoding.UTF8.GetBytes(piece, buffer);
            int first = ids.Count;
            List<int>? lengths = offsets == null ? null : new List<int>();
            int added = BytePairMerger.Encode(Tokens, buffer[..n], ids, lengths);
            if (offsets != null) AddOffsets(piece, pieceStart, lengths!, offsets);
            else if (piece.Length <= MaxCachedPieceLength && Volatile.Read(ref _cacheEntries) < MaxCacheEntries
                     && _cache.TryAdd(piece.ToString(), ids.GetRange(first, added).ToArray()))
                Interlocked.Increment(ref _cacheEntries);
            return added;
        }
        finally
        {
            if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Maps each token's byte range in the piece to the chars it touches.
    private static void AddOffsets(ReadOnlySpan<char> piece, int pieceStart, List<int> tokenByteLengths, List<Range> offsets)
    {
        // byteEnd[k] = UTF-8 bytes of piece[0..k+1) (surrogate pairs: both halves end at the pair's end).
        var charEndByte = new int[piece.Length];
        int bytes = 0;
        for (int k = 0; k < piece.Length; k++)
        {
            if (char.IsHighSurrogate(piece[k]) && k + 1 < piece.Length && char.IsLowSurrogate(piece[k + 1]))
            {
                bytes += 4;
                charEndByte[k] = bytes;
                charEndByte[k + 1] = bytes;
                k++;
                continue;
            }
            bytes += piece[k] < 0x80 ? 1 : piece[k] < 0x800 ? 2 : 3;
            charEndByte[k] = bytes;
        }
        int byteStart = 0, c = 0;
        foreach (int len in tokenByteLengths)
        {
            int byteEnd = byteStart + len;
            while (c < piece.Length && charEndByte[c] <= byteStart) c++;
            int startChar = c;
            if (startChar > 0 && char.IsLowSurrogate(piece[startChar]) && charEndByte[startChar - 1] == charEndByte[startChar]) startChar--;
            int endChar = startChar;
            while (endChar < piece.Length && charEndByte[endChar] < byteEnd) endChar++;
            if (endChar + 1 < piece.Length && char.IsHighSurrogate(piece[endChar]) && char.IsLowSurrogate(piece[endChar + 1])) endChar++;
            endChar = Math.Min(piece.Length, endChar + 1);
            offsets.Add(new Range(pieceStart + startChar, pieceStart + endChar));
            byteStart = byteEnd;
        }
    }

    private bool IsAllWhitespace(int id)
    {
        foreach (byte b in Tokens.BytesOf(id))
            if (b is not ((byte)' ' or (byte)'\n' or (byte)'\t')) return false;
        return true;
    }

    private static int ValidUtf8Prefix(ReadOnlySpan<byte> bytes)
    {
        int valid = 0;
        while (valid < bytes.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes[valid..], out _, out int consumed);
            if (status != OperationStatus.Done) break;
            valid += consumed;
        }
        return valid;
    }

    public override string ToString() => $"{Name} ({VocabularySize} ids)";
}
