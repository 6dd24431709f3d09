// Truncation of one sequence or a pair to a token budget, exactly as Hugging Face's
// truncate_encodings (tokenizers/src/utils/truncation.rs). For a pair under longest_first, with
// n1 <= n2 the lengths of the shorter and longer sequence and m the budget:
//   n1 + n2 <= m           → nothing to do;
//   otherwise n2' = max(n1, m - n1) (n2' = n1 when n1 > m); if n1 + n2' still exceeds m,
//   both get m / 2, the longer one m / 2 + m % 2.
// Note HF's rule is not "remove one token at a time from the longer one": (5, 6) into 8 gives (4, 4).
namespace Loom.Tokenizers.PostProcessor;

/// <summary>HF's truncation of a sequence or pair of token lists.</summary>
public static class Truncation
{
    /// <summary>Truncates <paramref name="first"/> and <paramref name="second"/> in place so that together they fit <paramref name="maxLength"/> tokens.</summary>
    public static void Apply(List<EncodedToken> first, List<EncodedToken>? second, int maxLength, TruncationStrategy strategy, bool fromLeft = false)
    {
        ArgumentNullException.ThrowIfNull(first);
        if (maxLength < 0) throw new ArgumentException($"The truncation length must be >= 0, got {maxLength}.", nameof(maxLength));
        int total = first.Count + (second?.Count ?? 0);
        if (total <= maxLength) return;
        int toRemove = total - maxLength;
        switch (strategy)
        {
            case TruncationStrategy.LongestFirst when second is not null:
            {
                int n1 = first.Count, n2 = second.Count;
                bool swap = n1 > n2;
                if (swap) (n1, n2) = (n2, n1);
                n2 = n1 > maxLength ? n1 : Math.Max(n1, maxLength - n1);
                if (n1 + n2 > maxLength)
                {
                    n1 = maxLength / 2;
                    n2 = n1 + maxLength % 2;
                }
                if (swap) (n1, n2) = (n2, n1);
                Cut(first, n1, fromLeft);
                Cut(second, n2, fromLeft);
                break;
            }
            case TruncationStrategy.LongestFirst:
                Cut(first, maxLength, fromLeft);
                break;
            default:
            {
                var target = strategy == TruncationStrategy.OnlyFirst ? first
                    : second ?? throw new ArgumentException("Truncation strategy only_second needs a second sequence (a pair); use longest_first or only_first for single texts.");
                if (target.Count <= toRemove)
                    throw new ArgumentException(
                        $"Truncation with {(strategy == TruncationStrategy.OnlyFirst ? "only_first" : "only_second")} must remove {toRemove} tokens but that sequence has only {target.Count}; " +
                        "raise max_length or use longest_first.");
                Cut(target, target.Count - toRemove, fromLeft);
                break;
            }
        }
    }

    private static void Cut(List<EncodedToken> tokens, int length, bool fromLeft)
    {
        if (tokens.Count <= length) return;
        if (fromLeft) tokens.RemoveRange(0, tokens.Count - length);
        else tokens.RemoveRange(length, tokens.Count - length);
    }
}
