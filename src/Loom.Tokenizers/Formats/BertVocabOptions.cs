namespace Loom.Tokenizers.Formats;

/// <summary>Options of a BERT tokenizer built from vocab.txt; defaults are bert-base-uncased's.</summary>
public sealed record BertVocabOptions
{
    /// <summary>do_lower_case. Default true.</summary>
    public bool DoLowerCase { get; init; } = true;

    /// <summary>strip_accents; null follows <see cref="DoLowerCase"/>.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>tokenize_chinese_chars. Default true.</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>model_max_length, or null.</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>unk_token.</summary>
    public string UnkToken { get; init; } = "[UNK]";

    /// <summary>sep_token.</summary>
    public string SepToken { get; init; } = "[SEP]";

    /// <summary>pad_token.</summary>
    public string PadToken { get; init; } = "[PAD]";

    /// <summary>cls_token.</summary>
    public string ClsToken { get; init; } = "[CLS]";

    /// <summary>mask_token.</summary>
    public string MaskToken { get; init; } = "[MASK]";
}
