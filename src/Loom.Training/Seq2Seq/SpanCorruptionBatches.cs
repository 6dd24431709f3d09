// Batches for T5 span-corruption pre-training (run_t5_mlm_flax.py): B random windows of the
// collator's TokensLength from one token stream (documents each ending in </s>, as T5Tokenizer
// encodes them and HF's group_texts concatenates them), each corrupted into encoder inputs of
// exactly InputsLength and labels of TargetsLength, with decoder inputs = labels shifted right
// behind decoder_start_token_id. Nothing is padded: every label counts. One SplitMix64 draws both
// the window starts and the masks, so its state alone is the sampler's position (saved in
// checkpoints, bit-identical resume), as MaskedLanguageModelBatches does for BERT.
using Loom.Training.Loop;

namespace Loom.Training.Seq2Seq;

/// <summary>A deterministic, resumable stream of span-corrupted (source, decoder input, label) batches.</summary>
public sealed class SpanCorruptionBatches : IBatchSource
{
    private readonly int[] _tokens;
    private readonly int _batch, _decoderStart, _pad;
    private readonly SpanCorruptionCollator _collator;
    private readonly SplitMix64 _rng;
    private readonly int[] _sources, _sourceLengths;   // (B, S), (B)
    private readonly int[] _decoderInputs, _labels;    // (B, T) each

    /// <param name="tokens">The token stream (documents each ending in &lt;/s&gt;).</param>
    /// <param name="batch">Windows per batch.</param>
    /// <param name="collator">Corrupts one window (its TokensLength is the window length).</param>
    /// <param name="decoderStartId">The decoder start token (T5: the pad id).</param>
    /// <param name="padId">The pad id (decoder inputs never see −100).</param>
    /// <param name="seed">Sampling and masking seed.</param>
    public SpanCorruptionBatches(int[] tokens, int batch, SpanCorruptionCollator collator, int decoderStartId, int padId, int seed)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(collator);
        if (batch < 1) throw new ArgumentException($"batch is {batch}; it must be at least 1.");
        if (tokens.Length < collator.TokensLength)
            throw new ArgumentException($"The token stream has {tokens.Length} tokens; span corruption to {collator.InputsLength} encoder inputs needs windows of {collator.TokensLength}. Lower train.sequence_length or add data.");
        _tokens = tokens;
        _batch = batch;
        _collator = collator;
        _decoderStart = decoderStartId;
        _pad = padId;
        _rng = new SplitMix64((ulong)seed);
        _sources = new int[batch * collator.InputsLength];
        _sourceLengths = new int[batch];
        Array.Fill(_sourceLengths, collator.InputsLength);
        _decoderInputs = new int[batch * collator.TargetsLength];
        _labels = new int[batch * collator.TargetsLength];
    }

    /// <inheritdoc/>
    public PaddedBatch Next()
    {
        int window = _collator.TokensLength, s = _collator.InputsLength, t = _collator.TargetsLength;
        for (int b = 0; b < _batch; b++)
        {
            int start = _rng.Next(_tokens.Length - window + 1);
            _collator.Apply(_tokens.AsSpan(start, window), _sources.AsSpan(b * s, s), _labels.AsSpan(b * t, t), _rng);
        }
        TeacherForcing.ShiftRight(_labels, t, _decoderStart, _pad, _decoderInputs);
        return new PaddedBatch(_decoderInputs, _labels, _batch, t, _batch * t) { Sources = new SourceBatch(_sources, _sourceLengths, s) };
    }

    /// <inheritdoc/>
    public BatchSourceState State
    {
        get => new(_rng.State, -1);
        set => _rng.State = value.Rng;
    }
}
