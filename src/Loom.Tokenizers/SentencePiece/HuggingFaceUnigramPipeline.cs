// Hugging Face tokenizers' pipeline for a Unigram tokenizer.json (what transformers' SpmConverter and
// T5Converter write), which is not sentencepiece's own:
//   1. added tokens (T5's </s>, <pad>, <unk>, <extra_id_N>) are cut out of the raw text first, leftmost and
//      then longest match (tokenizers' AddedVocabulary), and each becomes its id;
//   2. every other segment is normalized: Precompiled (spm_precompiled: per extended grapheme cluster shorter
//      than 6 bytes the FIRST charsmap match of the cluster replaces all of it, else per character), then
//      Replace rules (T5: the regex " {2,}" → " ");
//   3. Metaspace: spaces → ▁, a ▁ prepended (prepend_scheme "always"; "first" only at offset 0), then split
//      before every ▁ into words (split: true);
//   4. Unigram per word: the same Viterbi as sentencepiece but in f64 scores, over every vocabulary entry,
//      unknown score min(all scores) − 10, a run of unknown characters fused into one <unk> (or, with
//      byte_fallback, its UTF-8 bytes as <0xNN>).
// So leading/trailing whitespace, runs of spaces and sentinels in text can give different ids than
// spm_encode on the same model; Loom follows whichever file it was given. Checked against npm
// tokenizers@0.23.2 (tests/Loom.Tokenizers.Tests/SentencePiece/HuggingFaceUnigramTests).
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>The tokenizer.json (Hugging Face) Unigram pipeline over a SentencePiece vocabulary.</summary>
internal sealed class HuggingFaceUnigramPipeline : ISentencePiecePipeline
{
    private const double UnkPenalty = 10.0;

    private readonly (string Content, int Id)[] _added;
    private readonly DoubleArray? _charsmap;
    private readonly byte[] _replacements;
    private readonly IReadOnlyList<(Regex? Pattern, string Literal, string Content)> _replaces;
    private readonly string _replacement;
    private readonly string _prependScheme;
    private readonly bool _split;
    private readonly bool _byteFallback;
    private readonly ByteTrie _all = new();
    private readonly double[] _scores;
    private readonly double _minScore;
    private readonly int _unkId;
    private readonly int[] _byteIds = Enumerable.Repeat(-1, 256).ToArray();

    public HuggingFaceUnigramPipeline(IReadOnlyList<(string Piece, double Score)> vocab, int unkId, bool byteFallback,
        IReadOnlyList<(string Content, int Id)> added, byte[]? charsmap,
        IReadOnlyList<(Regex? Pattern, string Literal, string Content)> replaces,
        string replacement, string prependScheme, bool split, int[] prefixIds, int[] suffixIds)
    {
        _added = added.OrderByDescending(a => a.Content.Length).ToArray();
        _replaces = replaces;
        _replacement = replacement;
        _prependScheme = prependScheme;
        _split = split;
        _byteFallback = byteFallback;
        _unkId = unkId;
        PrefixIds = prefixIds;
        SuffixIds = suffixIds;
        _scores = new double[vocab.Count];
        _minScore = double.PositiveInfinity;
        for (int i = 0; i < vocab.Count; i++)
        {
            _all.Add(Encoding.UTF8.GetBytes(vocab[i].Piece), i);
            _scores[i] = vocab[i].Score;
            _minScore = Math.Min(_minScore, vocab[i].Score);
            int b = SentencePieceVocabulary.ParseBytePiece(vocab[i].Piece);
            if (b >= 0 && _byteIds[b] < 0) _byteIds[b] = i;
        }
        _replacements = [];
        if (charsmap is { Length: > 4 })
        {
            uint trieSize = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
            if (trieSize > (uint)(charsmap.Length - 4)) throw new FormatException($"normalizer Precompiled: precompiled_charsmap says its trie is {trieSize} bytes but only {charsmap.Length - 4} follow.");
            _charsmap = new DoubleArray(charsmap.AsSpan(4, (int)trieSize));
            _replacements = charsmap[(4 + (int)trieSize)..];
        }
    }

    public int[] PrefixIds { get; }
    public int[] SuffixIds { get; }

    public void Encode(string text, List<int> ids)
    {
        int segmentStart = 0;
        for (int i = 0; i < text.Length;)
        {
            var match = MatchAdded(text, i);
            if (match.Id < 0) { i++; continue; }
            if (i > segmentStart) EncodeSegment(text[segmentStart..i], segmentStart == 0, ids);
            ids.Add(match.Id);
            i += match.Content.Length;
            segmentStart = i;
        }
        if (segmentStart < text.Length) EncodeSegment(text[segmentStart..], segmentStart == 0, ids);
    }

    private (string Content, int Id) MatchAdded(string text, int at)
    {
        foreach (var a in _added)
            if (at + a.Content.Length <= text.Length && string.CompareOrdinal(text, at, a.Content, 0, a.Content.Length) == 0) return a;
        return ("", -1);
    }

    private void EncodeSegment(string segment, bool atStart, List<int> ids)
    {
        string s = Precompiled(segment);
        foreach (var (pattern, literal, content) in _replaces)
            s = pattern is not null ? pattern.Replace(s, content) : s.Replace(literal, content, StringComparison.Ordinal);
        if (s.Length == 0) return;
        s = s.Replace(" ", _replacement, StringComparison.Ordinal);
        if (!s.StartsWith(_replacement, StringComparison.Ordinal) && (_prependScheme == "always" || (_prependScheme == "first" && atStart)))
            s = _replacement + s;
        var spans = new List<PieceSpan>();
        if (!_split) { EncodeWord(s, ids, spans); return; }
        int start = 0;
        for (int i = 1; i <= s.Length; i++)
        {
            if (i == s.Length || string.CompareOrdinal(s, i, _replacement, 0, _replacement.Length) == 0)
            {
                if (i > start) EncodeWord(s[start..i], ids, spans);
                start = i;
            }
        }
    }

    private void EncodeWord(string word, List<int> ids, List<PieceSpan> spans)
    {
        byte[] text = Encoding.UTF8.GetBytes(word);
        spans.Clear();
        Viterbi(text, spans);
        bool prevUnk = false;
        int fusedStart = 0;
        for (int k = 0; k <= spans.Count; k++)
        {
            bool unk = k < spans.Count && spans[k].Id == _unkId;
            if (prevUnk && !unk) EmitUnknown(text.AsSpan(fusedStart, spans[k - 1].Start + spans[k - 1].Length - fusedStart), ids);
            if (k == spans.Count) break;
            if (unk && !prevUnk) fusedStart = spans[k].Start;
            if (!unk) ids.Add(spans[k].Id);
            prevUnk = unk;
        }
    }

    private void EmitUnknown(ReadOnlySpan<byte> bytes, List<int> ids)
    {
        if (_byteFallback)
        {
            bool all = true;
            foreach (byte b in bytes) all &= _byteIds[b] >= 0;
            if (all) { foreach (byte b in bytes) ids.Add(_byteIds[b]); return; }
        }
        ids.Add(_unkId);
    }

    private void Viterbi(ReadOnlySpan<byte> text, List<PieceSpan> output)
    {
        int size = text.Length;
        var score = new double[size + 1];
        var startsAt = new int[size + 1];
        var id = new int[size + 1];
        Array.Fill(startsAt, -1);
        double unkScore = _minScore - UnkPenalty;
        for (int start = 0; start < size;)
        {
            double tillHere = score[start];
            bool single = false;
            int mblen = Math.Min(Utf8Chars.OneCharLen(text[start]), size - start);
            int node = 0;
            for (int pos = start; pos < size;)
            {
                node = _all.Step(node, text[pos]);
                pos++;
                if (node < 0) break;
                int v = _all.ValueAt(node);
                if (v < 0) continue;
                double candidate = _scores[v] + tillHere;
                if (startsAt[pos] == -1 || candidate > score[pos]) { score[pos] = candidate; startsAt[pos] = start; id[pos] = v; }
                if (pos - start == mblen) single = true;
            }
            if (!single)
            {
                int end = start + mblen;
                double candidate = unkScore + tillHere;
                if (startsAt[end] == -1 || candidate > score[end]) { score[end] = candidate; startsAt[end] = start; id[end] = _unkId; }
            }
            start += mblen;
        }
        int first = output.Count;
        for (int end = size; end > 0; end = startsAt[end]) output.Add(new PieceSpan(startsAt[end], end - startsAt[end], id[end]));
        output.Reverse(first, output.Count - first);
    }

    /// <summary>spm_precompiled's normalize: per grapheme cluster, then per character, the first charsmap match.</summary>
    private string Precompiled(string s)
    {
        if (_charsmap is null) return s;
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length;)
        {
            int len = StringInfo.GetNextTextElementLength(s, i);
            if (len <= 0) len = 1;
            string grapheme = s.Substring(i, len);
            i += len;
            byte[] g = Encoding.UTF8.GetBytes(grapheme);
            if (g.Length < 6 && Transform(g) is { } whole) { sb.Append(whole); continue; }
            for (int j = 0; j < grapheme.Length;)
            {
                int clen = char.IsHighSurrogate(grapheme[j]) && j + 1 < grapheme.Length ? 2 : 1;
                string part = grapheme.Substring(j, clen);
                j += clen;
                sb.Append(Transform(Encoding.UTF8.GetBytes(part)) ?? part);
            }
        }
        return sb.ToString();
    }

    private string? Transform(ReadOnlySpan<byte> chunk)
    {
        var (length, value) = _charsmap!.ShortestPrefix(chunk);
        if (length == 0) return null;
        var rest = _replacements.AsSpan(Math.Min(value, _replacements.Length));
        int end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }
}
