namespace Loom.Tokenizers.PostProcessor;

/// <summary>Truncation (HF's TruncationParams without stride/overflow): the budget includes the special tokens.</summary>
public sealed record TruncationOptions
{
    /// <summary>Maximum length of the final encoding, special tokens included. Default 512.</summary>
    public int MaxLength { get; init; } = 512;

    /// <summary>Default <see cref="TruncationStrategy.LongestFirst"/>.</summary>
    public TruncationStrategy Strategy { get; init; } = TruncationStrategy.LongestFirst;

    /// <summary>Drop tokens from the end (default, "right") or from the start ("left").</summary>
    public bool FromLeft { get; init; }
}
