namespace Loom.Tokenizers.Normalizer;

/// <summary>Options of <see cref="BertNormalizer"/>; defaults are HF's (uncased BERT).</summary>
public sealed record BertNormalizerOptions
{
    /// <summary>Remove control characters and map whitespace to a space. Default true.</summary>
    public bool CleanText { get; init; } = true;

    /// <summary>Surround CJK ideographs with spaces. Default true.</summary>
    public bool HandleChineseChars { get; init; } = true;

    /// <summary>Strip accents; null (default) means "as <see cref="Lowercase"/>", as HF.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Lowercase. Default true.</summary>
    public bool Lowercase { get; init; } = true;
}
