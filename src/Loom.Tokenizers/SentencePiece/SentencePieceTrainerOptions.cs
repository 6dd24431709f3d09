// Options of Loom's SentencePiece trainer, named and defaulted as spm_train's flags
// (sentencepiece_model.proto TrainerSpec/NormalizerSpec), so a command line carries over.
namespace Loom.Tokenizers.SentencePiece;

/// <summary>How to train a SentencePiece model (spm_train's flags and defaults).</summary>
public sealed record SentencePieceTrainerOptions
{
    /// <summary>--model_type: unigram (default) or bpe.</summary>
    public SentencePieceModelType ModelType { get; init; } = SentencePieceModelType.Unigram;
    /// <summary>--vocab_size, meta pieces included; default 8000.</summary>
    public int VocabSize { get; init; } = 8000;
    /// <summary>--character_coverage: share of characters (by count) the vocabulary must cover; default 0.9995.</summary>
    public double CharacterCoverage { get; init; } = 0.9995;
    /// <summary>--normalization_rule_name: nmt_nfkc (default) or identity.</summary>
    public string NormalizationRuleName { get; init; } = "nmt_nfkc";
    /// <summary>--add_dummy_prefix; default true.</summary>
    public bool AddDummyPrefix { get; init; } = true;
    /// <summary>--remove_extra_whitespaces; default true.</summary>
    public bool RemoveExtraWhitespaces { get; init; } = true;
    /// <summary>--max_sentencepiece_length in characters; default 16.</summary>
    public int MaxSentencePieceLength { get; init; } = 16;
    /// <summary>--max_sentence_length in bytes: longer lines are skipped; default 4192.</summary>
    public int MaxSentenceLength { get; init; } = 4192;
    /// <summary>--split_by_unicode_script; default true.</summary>
    public bool SplitByUnicodeScript { get; init; } = true;
    /// <summary>--split_by_number; default true.</summary>
    public bool SplitByNumber { get; init; } = true;
    /// <summary>--split_digits; default false.</summary>
    public bool SplitDigits { get; init; }
    /// <summary>--byte_fallback: add the 256 &lt;0xNN&gt; pieces; default false.</summary>
    public bool ByteFallback { get; init; }
    /// <summary>--user_defined_symbols (e.g. T5's &lt;extra_id_0&gt;..).</summary>
    public IReadOnlyList<string> UserDefinedSymbols { get; init; } = [];
    /// <summary>--control_symbols.</summary>
    public IReadOnlyList<string> ControlSymbols { get; init; } = [];
    /// <summary>--unk_id; default 0.</summary>
    public int UnkId { get; init; }
    /// <summary>--bos_id; default 1 (-1: none).</summary>
    public int BosId { get; init; } = 1;
    /// <summary>--eos_id; default 2 (-1: none).</summary>
    public int EosId { get; init; } = 2;
    /// <summary>--pad_id; default -1 (none).</summary>
    public int PadId { get; init; } = -1;
    /// <summary>--seed_sentencepiece_size (unigram): frequent substrings kept as the seed vocabulary; default 1,000,000.</summary>
    public int SeedSentencePieceSize { get; init; } = 1_000_000;
    /// <summary>--shrinking_factor (unigram): share of pieces kept by each pruning round; default 0.75.</summary>
    public double ShrinkingFactor { get; init; } = 0.75;
    /// <summary>--num_sub_iterations (unigram): EM steps between prunings; default 2.</summary>
    public int NumSubIterations { get; init; } = 2;

    /// <summary>Checks the options; the message names the option and the value.</summary>
    public void Validate(Func<string, string>? optionName = null)
    {
        optionName ??= n => n;
        if (ModelType is not (SentencePieceModelType.Unigram or SentencePieceModelType.Bpe))
            throw new ArgumentException($"{optionName(nameof(ModelType))} is {ModelType}; Loom trains unigram and bpe.");
        if (VocabSize < 2) throw new ArgumentException($"{optionName(nameof(VocabSize))} is {VocabSize}; it must be at least 2.");
        if (!(CharacterCoverage > 0 && CharacterCoverage <= 1)) throw new ArgumentException($"{optionName(nameof(CharacterCoverage))} is {CharacterCoverage}; it must be in (0, 1].");
        if (NormalizationRuleName is not ("nmt_nfkc" or "identity"))
            throw new ArgumentException($"{optionName(nameof(NormalizationRuleName))} is \"{NormalizationRuleName}\"; Loom's trainer ships nmt_nfkc and identity.");
        if (MaxSentencePieceLength < 1) throw new ArgumentException($"{optionName(nameof(MaxSentencePieceLength))} is {MaxSentencePieceLength}; it must be at least 1.");
        if (!(ShrinkingFactor > 0 && ShrinkingFactor < 1)) throw new ArgumentException($"{optionName(nameof(ShrinkingFactor))} is {ShrinkingFactor}; it must be in (0, 1).");
        if (NumSubIterations < 1) throw new ArgumentException($"{optionName(nameof(NumSubIterations))} is {NumSubIterations}; it must be at least 1.");
        if (UnkId < 0) throw new ArgumentException($"{optionName(nameof(UnkId))} is {UnkId}; a model needs an unknown piece (id >= 0).");
        var ids = new[] { UnkId, BosId, EosId, PadId }.Where(i => i >= 0).ToArray();
        if (ids.Distinct().Count() != ids.Length) throw new ArgumentException($"unk/bos/eos/pad ids ({UnkId}, {BosId}, {EosId}, {PadId}) must be distinct (-1 for none).");
        if (ids.Any(i => i >= VocabSize)) throw new ArgumentException($"unk/bos/eos/pad ids ({UnkId}, {BosId}, {EosId}, {PadId}) must be below {optionName(nameof(VocabSize))} {VocabSize}.");
    }
}
