// Draws T5 span-corruption masks and corrupts windows of a fixed length with them (HF's
// DataCollatorForFlaxT5MLM for one row): random_spans_noise_mask's two random segmentations — n
// items cut into k non-empty segments by shuffling n − 1 "segment starts here" flags of which k − 1
// are set (Fisher–Yates on a SplitMix64 where HF calls np.random.shuffle; the same uniform
// distribution over compositions) — interleaved non-noise, noise, …, then SpanCorruption.Fill.
// Every scratch buffer is sized once by the window length: Apply allocates nothing.
using Loom.Training.Loop;

namespace Loom.Training.Seq2Seq;

/// <summary>Span corruption of fixed-length windows into encoder inputs and decoder labels.</summary>
public sealed class SpanCorruptionCollator
{
    private readonly bool[] _noise;                  // (L) the mask of the current window
    private readonly bool[] _cuts;                   // (L − 1) segment-start flags being shuffled
    private readonly int[] _noiseLengths, _keepLengths;   // (spans) segment lengths

    /// <param name="options">Noise density and mean span length.</param>
    /// <param name="tokensLength">Window length L (from <see cref="SpanCorruption.ComputeInputAndTargetLengths"/>).</param>
    /// <param name="firstSentinelId">The id of &lt;extra_id_0&gt;; sentinel k is this − k.</param>
    /// <param name="sentinelCount">How many &lt;extra_id_N&gt; the vocabulary has (T5: 100).</param>
    /// <param name="eosId">The id of &lt;/s&gt;.</param>
    public SpanCorruptionCollator(SpanCorruptionOptions options, int tokensLength, int firstSentinelId, int sentinelCount, int eosId)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        TokensLength = tokensLength;
        (NoiseTokens, NoiseSpans) = SpanCorruption.NoiseCounts(tokensLength, options.NoiseDensity, options.MeanNoiseSpanLength);
        if (NoiseSpans > sentinelCount)
            throw new ArgumentException($"A window of {tokensLength} tokens has {NoiseSpans} noise spans but the tokenizer has only {sentinelCount} sentinel tokens (<extra_id_N>); shorten train.sequence_length or raise span_corruption.mean_noise_span_length.");
        if (firstSentinelId - (NoiseSpans - 1) < 0) throw new ArgumentOutOfRangeException(nameof(firstSentinelId), firstSentinelId, $"Sentinels count down from this id; {NoiseSpans} of them do not fit.");
        FirstSentinelId = firstSentinelId;
        EosId = eosId;
        InputsLength = tokensLength - NoiseTokens + NoiseSpans + 1;
        TargetsLength = NoiseTokens + NoiseSpans + 1;
        _noise = new bool[tokensLength];
        _cuts = new bool[Math.Max(tokensLength - 1, 0)];
        _noiseLengths = new int[NoiseSpans];
        _keepLengths = new int[NoiseSpans];
    }

    public SpanCorruptionOptions Options { get; }

    /// <summary>Tokens per uncorrupted window.</summary>
    public int TokensLength { get; }

    /// <summary>Noise tokens and spans per window (fixed by the length).</summary>
    public int NoiseTokens { get; }
    public int NoiseSpans { get; }

    /// <summary>Encoder input length: non-noise tokens + one sentinel per span + &lt;/s&gt;.</summary>
    public int InputsLength { get; }

    /// <summary>Label length: noise tokens + one sentinel per span + &lt;/s&gt;.</summary>
    public int TargetsLength { get; }

    public int FirstSentinelId { get; }
    public int EosId { get; }

    /// <summary>Draws a noise mask for one window (true = corrupted); the span it returns is reused by the next call.</summary>
    public ReadOnlySpan<bool> DrawMask(SplitMix64 rng)
    {
        Segment(NoiseTokens, _noiseLengths, rng);
        Segment(TokensLength - NoiseTokens, _keepLengths, rng);
        int p = 0;
        for (int s = 0; s < NoiseSpans; s++)
        {
            for (int k = 0; k < _keepLengths[s]; k++) _noise[p++] = false;
            for (int k = 0; k < _noiseLengths[s]; k++) _noise[p++] = true;
        }
        return _noise;
    }

    /// <summary>Corrupts one window of <see cref="TokensLength"/> tokens into inputs (<see cref="InputsLength"/>) and labels (<see cref="TargetsLength"/>).</summary>
    public void Apply(ReadOnlySpan<int> window, Span<int> inputs, Span<int> labels, SplitMix64 rng)
    {
        if (window.Length != TokensLength) throw new ArgumentException($"The window holds {window.Length} tokens; this collator corrupts windows of {TokensLength}.");
        if (inputs.Length < InputsLength || labels.Length < TargetsLength) throw new ArgumentException($"inputs needs {InputsLength} and labels {TargetsLength} places; got {inputs.Length} and {labels.Length}.");
        var (i, t) = SpanCorruption.Fill(window, DrawMask(rng), FirstSentinelId, EosId, inputs, labels);
        if (i != InputsLength || t != TargetsLength) throw new InvalidOperationException($"Span corruption wrote {i} inputs and {t} labels, expected {InputsLength} and {TargetsLength}.");
    }

    // _random_segmentation: n items into `lengths.Length` non-empty segments, uniformly over the compositions.
    private void Segment(int items, int[] lengths, SplitMix64 rng)
    {
        int segments = lengths.Length;
        var cuts = _cuts.AsSpan(0, items - 1);
        for (int i = 0; i < cuts.Length; i++) cuts[i] = i < segments - 1;
        for (int i = cuts.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (cuts[i], cuts[j]) = (cuts[j], cuts[i]);
        }
        int s = 0, length = 1;
        for (int i = 0; i < cuts.Length; i++)
        {
            if (cuts[i]) { lengths[s++] = length; length = 1; }
            else length++;
        }
        lengths[s] = length;
    }
}
