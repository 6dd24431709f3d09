// A WordPiece tokenizer (BERT and its family), the Hugging Face pipeline:
//   added/special tokens matched in the raw text ("[MASK]") → BertNormalizer → BertPreTokenizer →
//   WordPiece (greedy longest match, "##" continuations, [UNK]) → truncation → template
//   ([CLS] A [SEP] B [SEP], type ids) → padding;
// and back: ids → tokens → WordPiece decoder. Ids, type ids, masks and offsets equal Hugging Face's
// tokenizers on the committed fixture set (tests/Loom.Tokenizers.Tests/WordPiece). Offsets are UTF-16
// ranges of the input string (HF's Node/Python bindings count code points; for BMP text they agree);
// a pair's second-sequence offsets index the second string, as HF.
// Load one with Formats/BertVocabFiles (vocab.txt + tokenizer_config.json) or Formats/WordPieceTokenizerJson
// (tokenizer.json), or WordPieceTokenizer.Load(path) for either. Thread-safe for encoding.
using Loom.Tokenizers.Decoder;
using Loom.Tokenizers.Model;
using Loom.Tokenizers.Normalizer;
using Loom.Tokenizers.PostProcessor;
using Loom.Tokenizers.PreTokenizer;

namespace Loom.Tokenizers;

/// <summary>A Hugging Face-compatible WordPiece tokenizer (BERT).</summary>
public sealed class WordPieceTokenizer
{
    private readonly (string Content, int Id, bool Special)[] _added; // longest first
    private readonly HashSet<int> _specialIds = new();
    private readonly Dictionary<int, string> _addedById = new();
    private readonly string _addedFirstChars;

    [ThreadStatic] private static Scratch? t_scratch;

    /// <summary>Creates a tokenizer from its parts; <paramref name="addedTokens"/> are matched verbatim in the raw text before normalization.</summary>
    public WordPieceTokenizer(WordPieceModel model, BertNormalizer? normalizer = null, BertPreTokenizer? preTokenizer = null,
        TemplatePostProcessor? postProcessor = null, WordPieceDecoder? decoder = null,
        IReadOnlyList<(string Content, int Id, bool Special)>? addedTokens = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        PostProcessor = postProcessor;
        Decoder = decoder;
        AddedTokens = addedTokens ?? [];
        foreach (var (content, id, special) in AddedTokens)
        {
            if (string.IsNullOrEmpty(content)) throw new ArgumentException("An added token has empty content.");
            if (id < 0) throw new ArgumentException($"Added token '{content}' has a negative id ({id}).");
            if (special) _specialIds.Add(id);
            _addedById[id] = content;
        }
        _added = AddedTokens.OrderByDescending(a => a.Content.Length).ToArray();
        _addedFirstChars = new string(AddedTokens.Select(a => a.Content[0]).Distinct().ToArray());
    }

    /// <summary>The WordPiece model (vocabulary).</summary>
    public WordPieceModel Model { get; }

    /// <summary>The normalizer, or null for none.</summary>
    public BertNormalizer? Normalizer { get; }

    /// <summary>The pre-tokenizer, or null (the whole normalized text is one word).</summary>
    public BertPreTokenizer? PreTokenizer { get; }

    /// <summary>The template post-processor, or null (sequences are concatenated, type ids 0).</summary>
    public TemplatePostProcessor? PostProcessor { get; }

    /// <summary>The decoder, or null (tokens joined by spaces).</summary>
    public WordPieceDecoder? Decoder { get; }

    /// <summary>Tokens matched verbatim in the raw text ([CLS], [SEP], [MASK], …).</summary>
    public IReadOnlyList<(string Content, int Id, bool Special)> AddedTokens { get; }

    /// <summary>Truncation applied by <see cref="Encode"/>, or null. Set once after loading (a model_max_length from tokenizer_config.json is not applied unless asked, as HF).</summary>
    public TruncationOptions? Truncation { get; init; }

    /// <summary>Padding applied by <see cref="Encode"/> and <see cref="EncodeBatch"/>, or null.</summary>
    public PaddingOptions? Padding { get; init; }

    /// <summary>Longest input the model was trained for (tokenizer_config.json's model_max_length), or null.</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>Largest id + 1, added tokens included: the embedding table's minimum row count.</summary>
    public int VocabularySize => Math.Max(Model.IdSpace, _addedById.Count == 0 ? 0 : _addedById.Keys.Max() + 1);

    /// <summary>A copy with other truncation and padding (e.g. from CLI options).</summary>
    public WordPieceTokenizer With(TruncationOptions? truncation, PaddingOptions? padding) =>
        new(Model, Normalizer, PreTokenizer, PostProcessor, Decoder, AddedTokens) { Truncation = truncation, Padding = padding, ModelMaxLength = ModelMaxLength };

    /// <summary>Loads a tokenizer.json (WordPiece model) or a directory/vocab.txt (with tokenizer_config.json when present).</summary>
    public static WordPieceTokenizer Load(string path) => Formats.WordPieceFormats.Load(path);

    /// <summary>Encodes a text, or a pair, with the configured truncation, template and padding.</summary>
    public WordPieceEncoding Encode(string text, string? pair = null, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = t_scratch ??= new Scratch();
        s.First.Clear();
        s.Second.Clear();
        s.Final.Clear();
        EncodeSequence(text, s.First, s);
        // HF (tokenizers >= 0.23) already stops tokenizing each sequence at max_length tokens, at a
        // word boundary, before the pair truncation below (TokenizerImpl::do_tokenize →
        // tokenize_with_limit); that changes how longest_first splits a pair, so it is reproduced.
        // Under only_second the first sequence is not limited.
        if (Truncation is { } limit && limit.Strategy != TruncationStrategy.OnlySecond) LimitWords(s.First, s, limit);
        if (pair is not null)
        {
            EncodeSequence(pair, s.Second, s);
            if (Truncation is { } limit2) LimitWords(s.Second, s, limit2);
        }
        var second = pair is null ? null : s.Second;

        if (Truncation is { } trunc)
        {
            int added = addSpecialTokens ? PostProcessor?.AddedTokens(pair is not null) ?? 0 : 0;
            if (trunc.MaxLength < added)
                throw new ArgumentException($"Truncation max_length {trunc.MaxLength} is smaller than the {added} special tokens the template adds; use at least {added}.");
            Loom.Tokenizers.PostProcessor.Truncation.Apply(s.First, second, trunc.MaxLength - added, trunc.Strategy, trunc.FromLeft);
        }

        if (PostProcessor is not null) PostProcessor.Apply(s.First, second, addSpecialTokens, s.Final);
        else
        {
            s.Final.AddRange(s.First);
            if (second is not null) s.Final.AddRange(second);
        }

        int length = s.Final.Count;
        if (Padding is { Length: { } fixedLength } pad) length = PaddedLength(fixedLength, pad);
        else if (Padding is { } batchPad) length = PaddedLength(length, batchPad);
        return Build(s.Final, length);
    }

    /// <summary>Encodes a batch; with padding to the longest (the default <see cref="PaddingOptions"/>), all get the longest length.</summary>
    public WordPieceEncoding[] EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs = null, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"The batch has {texts.Count} texts but {pairs.Count} pairs; give one pair per text.");
        var unpadded = With(Truncation, null);
        var encodings = new WordPieceEncoding[texts.Count];
        for (int i = 0; i < texts.Count; i++) encodings[i] = unpadded.Encode(texts[i], pairs?[i], addSpecialTokens);
        if (Padding is null || encodings.Length == 0) return encodings;
        int length = Padding.Length ?? encodings.Max(e => e.Length);
        length = PaddedLength(length, Padding);
        for (int i = 0; i < encodings.Length; i++) encodings[i] = Pad(encodings[i], length, Padding);
        return encodings;
    }

    /// <summary>Appends the ids of <paramref name="text"/> (no template, truncation or padding) to <paramref name="ids"/>: the corpus-tokenizing path.</summary>
    public void EncodeIds(string text, List<int> ids)
    {
        var s = t_scratch ??= new Scratch();
        s.First.Clear();
        EncodeSequence(text, s.First, s);
        foreach (var t in s.First) ids.Add(t.Id);
    }

    /// <summary>Decodes ids to text (HF's decode): unknown ids are skipped; special tokens too when <paramref name="skipSpecialTokens"/>.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                if (skipSpecialTokens && _specialIds.Contains(id)) continue;
                tokens.Add(added);
                continue;
            }
            if (Model.IdToToken(id) is { } token) tokens.Add(token);
        }
        return Decoder is not null ? Decoder.Decode(tokens) : string.Join(' ', tokens);
    }

    /// <summary>The token of an id (added tokens first), or null.</summary>
    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var t) ? t : Model.IdToToken(id);

    /// <summary>The id of a token (added tokens first), or null.</summary>
    public int? TokenToId(string token)
    {
        foreach (var (content, id, _) in AddedTokens)
            if (content == token) return id;
        return Model.TokenToId(token);
    }

    // Keeps whole splits (words, added tokens) from the start (or the end, for left truncation)
    // until the first word that brings the count to max_length or more; added tokens count but never
    // stop the scan (HF's PreTokenizedString::tokenize_with_limit).
    private static void LimitWords(List<EncodedToken> tokens, Scratch s, TruncationOptions limit)
    {
        var splits = s.Splits; // (first token index, is added token), in order
        int max = limit.MaxLength, total = 0;
        if (!limit.FromLeft)
        {
            for (int k = 0; k < splits.Count; k++)
            {
                int end = k + 1 < splits.Count ? splits[k + 1].Start : tokens.Count;
                total += end - splits[k].Start;
                if (!splits[k].Added && total >= max)
                {
                    tokens.RemoveRange(end, tokens.Count - end);
                    return;
                }
            }
        }
        else
        {
            for (int k = splits.Count - 1; k >= 0; k--)
            {
                int end = k + 1 < splits.Count ? splits[k + 1].Start : tokens.Count;
                total += end - splits[k].Start;
                if (!splits[k].Added && total >= max)
                {
                    tokens.RemoveRange(0, splits[k].Start);
                    return;
                }
            }
        }
    }

    private void EncodeSequence(string text, List<EncodedToken> output, Scratch s)
    {
        s.Splits.Clear();
        int segmentStart = 0;
        int i = _added.Length == 0 ? text.Length : text.AsSpan().IndexOfAny(_addedFirstChars);
        if (i < 0) i = text.Length;
        while (i < text.Length)
        {
            var match = MatchAdded(text, i);
            if (match >= 0)
            {
                var (content, id, special) = _added[match];
                EncodeSegment(text, segmentStart, i, output, s);
                s.Splits.Add((output.Count, true));
                output.Add(new EncodedToken(id, content, i, i + content.Length, 0, false));
                i += content.Length;
                segmentStart = i;
            }
            else i++;
            int next = text.AsSpan(i).IndexOfAny(_addedFirstChars);
            i = next < 0 ? text.Length : i + next;
        }
        EncodeSegment(text, segmentStart, text.Length, output, s);
    }

    private int MatchAdded(string text, int at)
    {
        for (int k = 0; k < _added.Length; k++)
            if (text.AsSpan(at).StartsWith(_added[k].Content, StringComparison.Ordinal)) return k;
        return -1;
    }

    private void EncodeSegment(string text, int start, int end, List<EncodedToken> output, Scratch s)
    {
        if (end <= start) return;
        var normalized = s.Normalized;
        var raw = text.AsSpan(start, end - start);
        if (Normalizer is not null) Normalizer.Normalize(raw, normalized);
        else
        {
            normalized.Clear();
            for (int k = 0; k < raw.Length; k++) normalized.Append(raw[k], k, k + 1);
        }
        var chars = normalized.Chars;
        s.Words.Clear();
        if (PreTokenizer is not null) PreTokenizer.Split(chars, s.Words);
        else if (chars.Length > 0) s.Words.Add((0, chars.Length));
        foreach (var (wordStart, wordEnd) in s.Words)
        {
            s.Pieces.Clear();
            s.Splits.Add((output.Count, false));
            Model.Tokenize(chars[wordStart..wordEnd], s.Pieces);
            foreach (var (id, pieceStart, pieceEnd) in s.Pieces)
            {
                var (origStart, origEnd) = normalized.OriginalRange(wordStart + pieceStart, wordStart + pieceEnd);
                string token = id == Model.UnknownId ? Model.UnknownToken : Model.IdToToken(id)!;
                output.Add(new EncodedToken(id, token, start + origStart, start + origEnd, 0, false));
            }
        }
    }

    private static int PaddedLength(int length, PaddingOptions pad)
    {
        if (pad.PadToMultipleOf is > 0 and var m && length % m != 0) length += m - length % m;
        return length;
    }

    private WordPieceEncoding Build(List<EncodedToken> tokens, int length)
    {
        int n = Math.Max(length, tokens.Count);
        var ids = new int[n];
        var typeIds = new int[n];
        var texts = new string[n];
        var offsets = new (int, int)[n];
        var attention = new int[n];
        var special = new int[n];
        int padCount = n - tokens.Count;
        int at = Padding is { Left: true } ? padCount : 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            ids[at + i] = t.Id;
            typeIds[at + i] = t.TypeId;
            texts[at + i] = t.Token;
            offsets[at + i] = (t.Start, t.End);
            attention[at + i] = 1;
            special[at + i] = t.IsSpecial ? 1 : 0;
        }
        if (padCount > 0)
        {
            var pad = Padding!;
            int padAt = pad.Left ? 0 : tokens.Count;
            for (int i = padAt; i < padAt + padCount; i++)
            {
                ids[i] = pad.PadId;
                typeIds[i] = pad.PadTypeId;
                texts[i] = pad.PadToken;
                special[i] = 1;
            }
        }
        return new WordPieceEncoding(ids, typeIds, texts, offsets, attention, special);
    }

    private static WordPieceEncoding Pad(WordPieceEncoding e, int length, PaddingOptions pad)
    {
        if (e.Length >= length) return e;
        int padCount = length - e.Length;
        int at = pad.Left ? padCount : 0;
        int padAt = pad.Left ? 0 : e.Length;
        var ids = new int[length]; var typeIds = new int[length]; var texts = new string[length];
        var offsets = new (int, int)[length]; var attention = new int[length]; var special = new int[length];
        e.Ids.CopyTo(ids, at); e.TypeIds.CopyTo(typeIds, at); e.Tokens.CopyTo(texts, at);
        e.Offsets.CopyTo(offsets, at); e.AttentionMask.CopyTo(attention, at); e.SpecialTokensMask.CopyTo(special, at);
        for (int i = padAt; i < padAt + padCount; i++)
        {
            ids[i] = pad.PadId;
            typeIds[i] = pad.PadTypeId;
            texts[i] = pad.PadToken;
            special[i] = 1;
        }
        return new WordPieceEncoding(ids, typeIds, texts, offsets, attention, special);
    }

    private sealed class Scratch
    {
        public readonly NormalizedText Normalized = new(1024);
        public readonly List<(int Start, int End)> Words = new(256);
        public readonly List<(int Id, int Start, int End)> Pieces = new(16);
        public readonly List<(int Start, bool Added)> Splits = new(256);
        public readonly List<EncodedToken> First = new(512);
        public readonly List<EncodedToken> Second = new(512);
        public readonly List<EncodedToken> Final = new(1024);
    }
}
