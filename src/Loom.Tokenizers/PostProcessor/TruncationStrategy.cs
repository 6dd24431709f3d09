namespace Loom.Tokenizers.PostProcessor;

/// <summary>Which sequence of a pair loses tokens when an encoding is too long (HF's TruncationStrategy).</summary>
public enum TruncationStrategy
{
    /// <summary>Shorten the longer sequence first (HF's exact split of the budget; see <see cref="Truncation"/>).</summary>
    LongestFirst,

    /// <summary>Only the first sequence; an error when it is too short to absorb the excess.</summary>
    OnlyFirst,

    /// <summary>Only the second sequence; an error when it is too short or absent.</summary>
    OnlySecond,
}
