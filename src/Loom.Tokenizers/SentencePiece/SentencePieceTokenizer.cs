// A SentencePiece tokenizer (Kudo & Richardson 2018), the pipeline of sentencepiece_processor.cc:
//   text → normalizer (user-defined symbols kept whole, precompiled charsmap, whitespace rules, ▁) →
//   model (Unigram Viterbi or BPE merges) → ids (a run of unknown pieces is one <unk>; with byte_fallback
//   each unknown piece becomes its UTF-8 bytes as <0xNN> pieces) → optional </s> (T5Tokenizer: ids then
//   </s> when special tokens are added);
// and back: ids → pieces → text (control pieces vanish, <unk> prints unk_surface " ⁇ ", byte pieces are
// reassembled into UTF-8 with each malformed byte as U+FFFD, ▁ → space, and the leading space the dummy
// prefix added is removed).
// Ids equal python-sentencepiece 0.1.97 on the committed fixtures (tests/Loom.Tokenizers.Tests/SentencePiece).
// Load a .model file (spiece.model, tokenizer.model), a directory holding one, or a Hugging Face
// tokenizer.json whose model is Unigram (SentencePieceTokenizerJson). Thread-safe for encoding and decoding.
using System.Text;

namespace Loom.Tokenizers.SentencePiece;

/// <summary>A SentencePiece (Unigram or BPE) tokenizer with sentencepiece's exact ids.</summary>
public sealed class SentencePieceTokenizer
{
    private readonly SentencePieceVocabulary _vocab;
    private readonly SentencePieceNormalizer _normalizer;
    private readonly ISentencePieceSegmenter _segmenter;
    private readonly ISentencePiecePipeline? _hfPipeline;
    private readonly int[] _prefixIds, _suffixIds;

    [ThreadStatic] private static List<byte>? t_normalized;
    [ThreadStatic] private static List<PieceSpan>? t_spans;

    /// <summary>Builds a tokenizer from a parsed model file; <paramref name="source"/> names it in errors.</summary>
    public SentencePieceTokenizer(SentencePieceModelFile model, SentencePieceTokenizerOptions? options = null, string source = "<model>")
        : this(model, options, source, null)
    {
    }

    /// <summary>The vocabulary tables (for the trainer and the tokenizer.json pipeline).</summary>
    internal SentencePieceVocabulary Vocabulary => _vocab;

    internal SentencePieceTokenizer(SentencePieceModelFile model, SentencePieceTokenizerOptions? options, string source, ISentencePiecePipeline? hfPipeline)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Options = options ?? new SentencePieceTokenizerOptions();
        Source = source;
        var spec = model.TrainerSpec;
        if (spec.TreatWhitespaceAsSuffix)
            throw new NotSupportedException($"{source}: trainer_spec.treat_whitespace_as_suffix is true; Loom supports only the default (false).");
        _vocab = new SentencePieceVocabulary(model.Pieces, spec.ByteFallback, source);
        _normalizer = new SentencePieceNormalizer(model.NormalizerSpec, _vocab.UserDefined, source);
        _segmenter = spec.ModelType switch
        {
            SentencePieceModelType.Unigram => new UnigramSegmenter(_vocab),
            SentencePieceModelType.Bpe => new BpeSegmenter(_vocab),
            var t => throw new NotSupportedException($"{source}: trainer_spec.model_type is {t}; Loom encodes unigram and bpe SentencePiece models."),
        };
        _hfPipeline = hfPipeline;
        BosId = FindSpecial(spec.BosId, spec.BosPiece);
        EosId = FindSpecial(spec.EosId, spec.EosPiece);
        PadId = FindSpecial(spec.PadId, spec.PadPiece);
        _prefixIds = Options.AddBos && BosId >= 0 ? [BosId] : [];
        _suffixIds = Options.AddEos && EosId >= 0 ? [EosId] : [];
        if (hfPipeline is not null) (_prefixIds, _suffixIds) = (hfPipeline.PrefixIds, hfPipeline.SuffixIds);
    }

    /// <summary>Loads a .model file (or .model.gz), a directory holding spiece.model, tokenizer.model or a Unigram tokenizer.json, or a tokenizer.json file.</summary>
    public static SentencePieceTokenizer Load(string path, SentencePieceTokenizerOptions? options = null)
    {
        string? file = ResolveFile(path)
            ?? throw new FileNotFoundException($"{path}: no SentencePiece model here; give a .model file or a directory holding spiece.model, tokenizer.model or a Unigram tokenizer.json.", path);
        if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return SentencePieceTokenizerJson.Load(file);
        return new SentencePieceTokenizer(SentencePieceModelFile.Read(file), options, file);
    }

    /// <summary>
    /// The file <see cref="Load"/> would read for <paramref name="path"/>, or null when the path holds no
    /// SentencePiece model (so callers can try other tokenizer formats).
    /// </summary>
    public static string? ResolveFile(string path)
    {
        // Sniffing opens files: refuse a FIFO (as the file or inside the folder) rather than block on it.
        if (Loom.Core.IO.InputFiles.KindOf(path) is not (Loom.Core.IO.InputFileKind.Missing or Loom.Core.IO.InputFileKind.Directory))
            Loom.Core.IO.InputFiles.RequireFile(path, "Tokenizer");
        Loom.Core.IO.InputFiles.RequireRegularMembers(path, "Tokenizer directory");
        if (File.Exists(path))
        {
            if (path.EndsWith(".model", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".model.gz", StringComparison.OrdinalIgnoreCase)) return path;
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && SentencePieceTokenizerJson.IsUnigram(path)) return path;
            return null;
        }
        if (!Directory.Exists(path)) return null;
        foreach (var name in new[] { "spiece.model", "tokenizer.model", "sentencepiece.bpe.model" })
            if (File.Exists(Path.Combine(path, name)) && !File.Exists(Path.Combine(path, "tokenizer.json"))) return Path.Combine(path, name);
        string json = Path.Combine(path, "tokenizer.json");
        if (File.Exists(json) && SentencePieceTokenizerJson.IsUnigram(json)) return json;
        foreach (var name in new[] { "spiece.model", "tokenizer.model", "sentencepiece.bpe.model" })
            if (File.Exists(Path.Combine(path, name))) return Path.Combine(path, name);
        return null;
    }

    /// <summary>The model file this tokenizer was built from.</summary>
    public SentencePieceModelFile Model { get; }

    /// <summary>Encoding options (which special tokens <c>addSpecialTokens</c> adds).</summary>
    public SentencePieceTokenizerOptions Options { get; }

    /// <summary>Where the model came from (a path), for messages.</summary>
    public string Source { get; }

    /// <summary>Number of pieces (ids are 0..VocabSize-1).</summary>
    public int VocabSize => _vocab.Pieces.Length;

    /// <summary>Id of the unknown piece.</summary>
    public int UnkId => _vocab.UnkId;

    /// <summary>Id of &lt;s&gt;, or -1 when the model has none (T5).</summary>
    public int BosId { get; }

    /// <summary>Id of &lt;/s&gt;, or -1 when the model has none.</summary>
    public int EosId { get; }

    /// <summary>Id of &lt;pad&gt;, or -1 when the model has none (sentencepiece's default).</summary>
    public int PadId { get; }

    /// <summary>The piece text of <paramref name="id"/> (▁ for spaces).</summary>
    public string IdToPiece(int id) => (uint)id < (uint)_vocab.Pieces.Length ? _vocab.Pieces[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Id {id} is outside the vocabulary of {Source} (0..{VocabSize - 1}).");

    /// <summary>The id of <paramref name="piece"/>, or <see cref="UnkId"/> when it is not in the vocabulary (as sentencepiece).</summary>
    public int PieceToId(string piece) => _vocab.PieceToId(piece);

    /// <summary>The id of <paramref name="piece"/> when it is in the vocabulary.</summary>
    public bool TryGetId(string piece, out int id) => _vocab.Reserved.TryGetValue(piece, out id) || _vocab.Normal.TryGetValue(piece, out id);

    /// <summary>The type of a piece (normal, control, byte, ...).</summary>
    public SentencePieceType GetPieceType(int id) => _vocab.Types[id];

    /// <summary>The score of a piece.</summary>
    public float GetScore(int id) => _vocab.Scores[id];

    /// <summary>Encodes <paramref name="text"/> as sentencepiece's encode; with <paramref name="addSpecialTokens"/> adds the options' &lt;s&gt;/&lt;/s&gt;.</summary>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        var ids = new List<int>();
        Encode(text, ids, addSpecialTokens);
        return ids.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(string text, List<int> ids, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (addSpecialTokens) ids.AddRange(_prefixIds);
        if (_hfPipeline is not null) _hfPipeline.Encode(text, ids);
        else EncodeSentencePiece(text, ids);
        if (addSpecialTokens) ids.AddRange(_suffixIds);
    }

    /// <summary>The ids addSpecialTokens puts before the text (&lt;s&gt; when the options ask for it).</summary>
    public IReadOnlyList<int> PrefixSpecialIds => _prefixIds;

    /// <summary>The ids addSpecialTokens puts after the text (&lt;/s&gt; for T5).</summary>
    public IReadOnlyList<int> SuffixSpecialIds => _suffixIds;

    private void EncodeSentencePiece(string text, List<int> ids)
    {
        var spans = t_spans ??= new List<PieceSpan>();
        var normalized = t_normalized ??= new List<byte>();
        spans.Clear();
        _normalizer.Normalize(Encoding.UTF8.GetBytes(text), normalized);
        var norm = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(normalized);
        _segmenter.Segment(norm, spans);
        AppendIds(norm, spans, ids, _vocab, Model.TrainerSpec.ByteFallback);
    }

    /// <summary>
    /// Pieces → ids as sentencepiece_processor.cc PopulateSentencePieceText: with byte fallback an unknown
    /// piece becomes its UTF-8 bytes as &lt;0xNN&gt; pieces; without, a run of unknown pieces is one &lt;unk&gt;.
    /// </summary>
    internal static void AppendIds(ReadOnlySpan<byte> normalized, List<PieceSpan> spans, List<int> ids, SentencePieceVocabulary vocab, bool byteFallback)
    {
        bool prevUnk = false;
        foreach (var s in spans)
        {
            bool unk = s.Id == vocab.UnkId;
            if (unk && byteFallback)
                foreach (byte b in normalized.Slice(s.Start, s.Length)) ids.Add(vocab.ByteIds[b]);
            else if (!(unk && prevUnk))
                ids.Add(s.Id);
            prevUnk = unk;
        }
    }

    /// <summary>The pieces of <paramref name="text"/> (as sentencepiece's encode with out_type=str).</summary>
    public IReadOnlyList<string> EncodeToPieces(string text)
    {
        var ids = Encode(text);
        var pieces = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++) pieces[i] = _vocab.Pieces[ids[i]];
        return pieces;
    }

    /// <summary>Decodes ids as sentencepiece's decode (control pieces vanish, byte pieces form UTF-8, ▁ → space).</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        bool isBosWs = true, bosWsSeen = false;
        var spec = Model.NormalizerSpec;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)_vocab.Pieces.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Id {id} at position {i} is outside the vocabulary of {Source} (0..{VocabSize - 1}).");
            if (_vocab.Types[id] == SentencePieceType.Byte)
            {
                bytes.Add((byte)_vocab.ByteOf[id]);
                continue;
            }
            FlushBytes(bytes, text);
            if (bosWsSeen || text.Length > 0) isBosWs = false;
            bosWsSeen = false;
            var type = _vocab.Types[id];
            if (type == SentencePieceType.Control) continue;
            if (type == SentencePieceType.Unknown) { text.Append(Model.TrainerSpec.UnkSurface); continue; }
            ReadOnlySpan<char> piece = _vocab.Pieces[id];
            if (isBosWs && (spec.AddDummyPrefix || spec.RemoveExtraWhitespaces) && piece.StartsWith("\u2581"))
            {
                piece = piece[1..];
                bosWsSeen = !spec.RemoveExtraWhitespaces;
            }
            foreach (char c in piece) text.Append(c == '\u2581' ? ' ' : c);
        }
        FlushBytes(bytes, text);
        return text.ToString();
    }

    /// <summary>Byte pieces → UTF-8 characters; each byte of a malformed sequence becomes U+FFFD (sentencepiece's ProcessBytePieces).</summary>
    private static void FlushBytes(List<byte> bytes, StringBuilder text)
    {
        if (bytes.Count == 0) return;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        for (int offset = 0; offset < span.Length;)
        {
            if (System.Text.Rune.DecodeFromUtf8(span[offset..], out var rune, out int consumed) == System.Buffers.OperationStatus.Done)
            {
                text.Append(rune.ToString());
                offset += consumed;
            }
            else
            {
                text.Append('\uFFFD');
                offset += 1;
            }
        }
        bytes.Clear();
    }

    private int FindSpecial(int specId, string piece)
    {
        if (specId >= 0 && specId < _vocab.Pieces.Length) return specId;
        return specId < 0 && !_vocab.Reserved.ContainsKey(piece) ? -1 : _vocab.Reserved.TryGetValue(piece, out int id) ? id : -1;
    }
}
