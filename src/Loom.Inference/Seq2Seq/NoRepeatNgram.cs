// transformers' NoRepeatNGramLogitsProcessor (generation/logits_process.py, _get_ngrams and
// _get_generated_ngrams): a token is banned when, appended to the hypothesis (decoder ids including
// the start token), it would repeat an n-gram already in it. Bans become −∞ scores.
namespace Loom.Inference.Seq2Seq;

internal static class NoRepeatNgram
{
    /// <summary>Sets the score of every banned next token of <paramref name="sequence"/> to −∞.</summary>
    public static void Ban(ReadOnlySpan<int> sequence, int n, Span<float> scores)
    {
        int len = sequence.Length;
        if (n <= 0 || len + 1 < n) return;
        var tail = sequence[(len - n + 1)..];                  // the last n − 1 ids
        for (int i = 0; i + n <= len; i++)
            if (sequence.Slice(i, n - 1).SequenceEqual(tail)) scores[sequence[i + n - 1]] = float.NegativeInfinity;
    }
}
