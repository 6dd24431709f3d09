// T5Tokenizer's view of a SentencePiece model for text-to-text training: content ids without
// specials, </s> and <pad> from the model, and the sentinels. A Hugging Face tokenizer.json carries
// <extra_id_N> as added tokens; a bare spiece.model does not, and transformers' T5Tokenizer then
// appends extra_ids = 100 of them after the pieces (<extra_id_0> = len(sp) + 99, counting down), which
// is what this adapter assumes for a model without a descending <extra_id_0>, <extra_id_1>, … run
// (a model trained with sentinels as user-defined pieces counts them upwards; those stay ordinary text).
using Loom.Tokenizers.SentencePiece;

namespace Loom.Training.Seq2Seq;

/// <summary>A SentencePiece tokenizer as T5Tokenizer uses it.</summary>
public sealed class SentencePieceTextToTextTokenizer : ITextToTextTokenizer
{
    /// <summary>T5Tokenizer's default extra_ids.</summary>
    public const int DefaultExtraIds = 100;

    private readonly SentencePieceTokenizer _tokenizer;
    private readonly int[] _filtered = new int[1024];

    public SentencePieceTextToTextTokenizer(SentencePieceTokenizer tokenizer)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        if (tokenizer.EosId < 0) throw new InvalidDataException($"{tokenizer.Source} has no </s> (eos) piece, which ends every T5 source and target; train the SentencePiece model with --eos_id set.");
        int n = 0;
        if (tokenizer.TryGetId("<extra_id_0>", out int first))
            while (tokenizer.TryGetId($"<extra_id_{n}>", out int id) && id == first - n) n++;
        if (n >= 2)
        {
            FirstSentinelId = first;
            SentinelCount = n;
            Size = tokenizer.VocabSize;
        }
        else
        {
            FirstSentinelId = tokenizer.VocabSize + DefaultExtraIds - 1;
            SentinelCount = DefaultExtraIds;
            Size = tokenizer.VocabSize + DefaultExtraIds;
        }
    }

    /// <summary>The wrapped tokenizer.</summary>
    public SentencePieceTokenizer Tokenizer => _tokenizer;

    /// <summary>len(tokenizer): the pieces plus appended sentinels (what model.vocab_size must cover).</summary>
    public int Size { get; }

    public void Encode(string text, List<int> ids) => _tokenizer.Encode(text, ids, addSpecialTokens: false);

    public string Decode(ReadOnlySpan<int> ids)
    {
        // Sentinels beyond the pieces and the pad/eos controls are not text.
        Span<int> kept = ids.Length <= _filtered.Length ? _filtered : new int[ids.Length];
        int n = 0;
        foreach (int id in ids)
            if (id >= 0 && id < _tokenizer.VocabSize && id != PadId && id != EosId && (id > FirstSentinelId || id <= FirstSentinelId - SentinelCount)) kept[n++] = id;
        return _tokenizer.Decode(kept[..n]);
    }

    public int EosId => _tokenizer.EosId;
    public int PadId => _tokenizer.PadId >= 0 ? _tokenizer.PadId : 0;
    public int FirstSentinelId { get; }
    public int SentinelCount { get; }
}
