// T5's span corruption (Raffel et al. 2020, §3.1.4, Figure 2), as Hugging Face's
// examples/flax/language-modeling/run_t5_mlm_flax.py defines it after T5's own
// t5.data.preprocessors.random_spans_noise_mask:
//   - a window of `tokens_length` tokens has round(tokens_length · noise_density) noise tokens
//     (clamped to [1, length − 1]) in round(min(noise, non-noise) / mean_noise_span_length) spans
//     (at least 1); the mask alternates non-noise, noise, … starting with non-noise;
//   - the inputs keep the non-noise tokens and put one sentinel in place of each noise span; the
//     targets hold each noise span behind its sentinel; both end with </s>;
//   - sentinel k (0-based) is <extra_id_k> = len(tokenizer) − 1 − k: T5's sentinels count down from
//     the top of the vocabulary (create_sentinel_ids: len(tokenizer) − cumsum(span starts)).
// compute_input_and_target_lengths picks the window length so that the corrupted inputs are exactly
// the encoder length (568 tokens → 512 inputs and 114 targets at the defaults).
// The deterministic parts here are checked against a numpy implementation of HF's algorithm
// (tests/Loom.Training.Tests/Fixtures/seq2seq/make_span_fixture.py); the random part is a shuffle,
// drawn from a SplitMix64 so that a checkpoint can save it.
namespace Loom.Training.Seq2Seq;

/// <summary>The lengths and the sentinel filling of T5 span corruption.</summary>
public static class SpanCorruption
{
    /// <summary>
    /// HF's compute_input_and_target_lengths: the longest window whose corrupted inputs (non-noise
    /// tokens + one sentinel per span + &lt;/s&gt;) fit <paramref name="inputsLength"/>, and the targets'
    /// length for it (with HF's adjustment at noise density 0.5).
    /// </summary>
    public static (int TokensLength, int TargetsLength) ComputeInputAndTargetLengths(int inputsLength, double noiseDensity, double meanNoiseSpanLength)
    {
        if (inputsLength < 2) throw new ArgumentOutOfRangeException(nameof(inputsLength), inputsLength, "Span corruption needs inputs of at least 2 tokens (one sentinel and </s>).");
        int tokens = inputsLength;
        while (CorruptedLengths(tokens + 1, noiseDensity, meanNoiseSpanLength).Inputs <= inputsLength) tokens++;
        int targets = CorruptedLengths(tokens, noiseDensity, meanNoiseSpanLength).Targets;
        // HF's "minor hack": at density 0.5 make the targets no longer than the (round-numbered) inputs.
        if (noiseDensity == 0.5 && targets > inputsLength) { tokens--; targets--; }
        return (tokens, targets);
    }

    // HF's _tokens_length_to_inputs_length_targets_length (no clamping of the span count: the lengths
    // function and the mask function differ in that corner, which NoiseCounts reports).
    private static (int Inputs, int Targets) CorruptedLengths(int tokensLength, double noiseDensity, double meanNoiseSpanLength)
    {
        int noise = RoundHalfEven(tokensLength * noiseDensity);
        int spans = RoundHalfEven(noise / meanNoiseSpanLength);
        return (tokensLength - noise + spans + 1, noise + spans + 1);
    }

    /// <summary>
    /// The noise-token and span counts random_spans_noise_mask uses for a window of
    /// <paramref name="length"/> tokens (fixed by the length; only their placement is random).
    /// </summary>
    public static (int NoiseTokens, int NoiseSpans) NoiseCounts(int length, double noiseDensity, double meanNoiseSpanLength)
    {
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), length, "A span-corruption window needs at least 2 tokens (one noise, one not).");
        int noise = RoundHalfEven(length * noiseDensity);
        int nonNoise = length - noise;
        noise = Math.Min(Math.Max(noise, 1), length - 1);
        int spans = Math.Max(RoundHalfEven(Math.Min(noise, nonNoise) / meanNoiseSpanLength), 1);
        return (noise, spans);
    }

    /// <summary>
    /// Writes the corrupted inputs and the targets of <paramref name="tokens"/> under
    /// <paramref name="noise"/> (HF's create_sentinel_ids + filter_input_ids for one row): inputs number
    /// the noise spans, targets the non-noise spans, each with sentinel <paramref name="firstSentinelId"/>
    /// − k for the k-th span; both end with <paramref name="eosId"/>. Returns the lengths written.
    /// </summary>
    public static (int InputsLength, int TargetsLength) Fill(ReadOnlySpan<int> tokens, ReadOnlySpan<bool> noise, int firstSentinelId, int eosId, Span<int> inputs, Span<int> targets)
    {
        if (noise.Length != tokens.Length) throw new ArgumentException($"The noise mask has {noise.Length} entries for {tokens.Length} tokens.");
        int i = 0, t = 0, inputSpans = 0, targetSpans = 0;
        for (int p = 0; p < tokens.Length; p++)
        {
            bool start = p == 0 || noise[p] != noise[p - 1];
            if (noise[p])
            {
                if (start) inputs[i++] = firstSentinelId - inputSpans++;
                targets[t++] = tokens[p];
            }
            else
            {
                if (start) targets[t++] = firstSentinelId - targetSpans++;
                inputs[i++] = tokens[p];
            }
        }
        inputs[i++] = eosId;
        targets[t++] = eosId;
        return (i, t);
    }

    // Python's round() and numpy's np.round: halves go to the even neighbour.
    internal static int RoundHalfEven(double x) => (int)Math.Round(x, MidpointRounding.ToEven);
}
