using Loom.Tokenizers.Normalizer;

namespace Loom.Tokenizers.Trainer;

/// <summary>Options of <see cref="WordPieceTrainer"/>; defaults are HF's WordPieceTrainer's except the special tokens (BERT's five).</summary>
public sealed record WordPieceTrainerOptions
{
    /// <summary>Target vocabulary size, special tokens included. Default 30000 (HF).</summary>
    public int VocabularySize { get; init; } = 30_000;

    /// <summary>Pairs seen fewer times are not merged. Default 0 (HF).</summary>
    public long MinFrequency { get; init; }

    /// <summary>Special tokens, ids 0..k-1 in this order. Default BERT's: [PAD] [UNK] [CLS] [SEP] [MASK].</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>Keep at most this many characters in the alphabet (the most frequent), or null for all.</summary>
    public int? LimitAlphabet { get; init; }

    /// <summary>Characters always in the alphabet, seen or not.</summary>
    public IReadOnlyList<string> InitialAlphabet { get; init; } = [];

    /// <summary>Prefix of word-continuing pieces. Default "##".</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";

    /// <summary>Normalizer applied before counting words (lowercase, accents, CJK). Default uncased BERT.</summary>
    public BertNormalizerOptions Normalizer { get; init; } = new();

    /// <summary>Field read from .jsonl inputs. Default "text".</summary>
    public string JsonField { get; init; } = "text";

    /// <summary>Threads counting words. Default: all cores.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}
