namespace Loom.Tokenizers.SentencePiece;

/// <summary>TrainerSpec.ModelType in sentencepiece_model.proto (the numeric values are the wire values).</summary>
public enum SentencePieceModelType
{
    /// <summary>Unigram language model (Kudo 2018), segmented by Viterbi over piece scores.</summary>
    Unigram = 1,
    /// <summary>Byte-pair encoding, merged by piece score (higher first).</summary>
    Bpe = 2,
    /// <summary>Whitespace-delimited words (read, not supported for encoding).</summary>
    Word = 3,
    /// <summary>Single characters (read, not supported for encoding).</summary>
    Char = 4,
}
