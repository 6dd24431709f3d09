// Batches for BERT's masked-LM pre-training: B random windows of T − 2 tokens from one stream (the
// documents joined by [SEP], as `batching: windows` samples causal runs), each framed as
// [CLS] window [SEP] — the single-segment packing of RoBERTa's FULL-SENTENCES (Liu et al. 2019 §4.2)
// and of HF run_mlm's group_texts, without padding — then masked by MaskedLanguageModelCollator.
// One SplitMix64 draws both the window starts and the masks, so its state alone is the sampler's
// position: a checkpoint saves it and a resumed run sees the very same masked batches.
using Loom.Training.Loop;

namespace Loom.Training.Masking;

/// <summary>A deterministic, resumable stream of masked [CLS] … [SEP] windows.</summary>
public sealed class MaskedLanguageModelBatches : IBatchSource
{
    private readonly int[] _tokens;
    private readonly int _batch, _time, _cls, _sep;
    private readonly MaskedLanguageModelCollator _collator;
    private readonly SplitMix64 _rng;
    private readonly int[] _inputs, _labels;   // (B, T) each, reused by every call

    /// <param name="tokens">The token stream (documents joined by [SEP]).</param>
    /// <param name="batch">Sequences per batch.</param>
    /// <param name="time">Sequence length T, [CLS] and [SEP] included (at least 3).</param>
    /// <param name="clsId">The id of [CLS].</param>
    /// <param name="sepId">The id of [SEP].</param>
    /// <param name="collator">Chooses and replaces the predicted tokens.</param>
    /// <param name="seed">Sampling and masking seed.</param>
    public MaskedLanguageModelBatches(int[] tokens, int batch, int time, int clsId, int sepId, MaskedLanguageModelCollator collator, int seed)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(collator);
        if (batch < 1) throw new ArgumentException($"batch is {batch}; it must be at least 1.");
        if (time < 3) throw new ArgumentException($"train.sequence_length is {time}; a masked-LM sequence holds [CLS], at least one token and [SEP], so it must be at least 3.");
        if (tokens.Length < time - 2)
            throw new ArgumentException($"The token stream has {tokens.Length} tokens; sequences of {time} ([CLS] + {time - 2} tokens + [SEP]) need at least {time - 2}. Lower train.sequence_length or add data.");
        // A batch in which no token is chosen has no masked-LM loss (HF's collator gives NaN; averaged as 0
        // it reports a perfect model). With per-token selection that happens with probability
        // (1 − p)^(B·(T − 2)) (fewer when the windows hold [SEP]s); refuse settings where it exceeds 1%, and
        // redraw the rare empty batch in Next, which then biases the masking rate by less than 1%.
        var o = collator.Options;
        if (!o.WholeWordMask && o.Probability is > 0 and < 1)
        {
            double none = Math.Pow(1 - o.Probability, (double)batch * (time - 2));
            if (none > MaxEmptyBatchProbability)
            {
                int needed = (int)Math.Ceiling(Math.Log(MaxEmptyBatchProbability) / Math.Log(1 - o.Probability));
                throw new ArgumentException($"train.batch_size {batch} × (train.sequence_length {time} − 2) = {(long)batch * (time - 2)} maskable tokens per batch at mlm.probability {o.Probability}: " +
                                            $"{(int)Math.Round(none * 100)}% of the batches would mask nothing and have no loss to learn from; raise train.sequence_length or train.batch_size so that batch_size × (sequence_length − 2) is at least {needed}.");
            }
        }
        _tokens = tokens;
        _batch = batch;
        _time = time;
        _cls = clsId;
        _sep = sepId;
        _collator = collator;
        _rng = new SplitMix64((ulong)seed);
        _inputs = new int[batch * time];
        _labels = new int[batch * time];
    }

    /// <inheritdoc/>
    /// <remarks>RealTokens is the number of predicted positions, the loss's denominator (evaluation weights batches by it).</remarks>
    public PaddedBatch Next()
    {
        int span = _time - 2;
        for (int attempt = 0; attempt < MaxRedraws; attempt++)
        {
            for (int b = 0; b < _batch; b++)
            {
                int start = _rng.Next(_tokens.Length - span + 1);
                var row = _inputs.AsSpan(b * _time, _time);
                row[0] = _cls;
                _tokens.AsSpan(start, span).CopyTo(row[1..]);
                row[^1] = _sep;
            }
            int predicted = _collator.Apply(_inputs, _labels, _batch, _time, _rng);
            if (predicted > 0) return new PaddedBatch(_inputs, _labels, _batch, _time, predicted);
            // Nothing chosen: no loss to take; draw the next windows and masks (same RNG, so still resumable).
        }
        throw new InvalidOperationException($"{MaxRedraws} batches in a row had no token to mask; the data is (almost) only special tokens, or train.sequence_length {_time} is too short for mlm.probability {_collator.Options.Probability}.");
    }

    /// <summary>The largest accepted chance that a batch masks nothing (see the constructor).</summary>
    public const double MaxEmptyBatchProbability = 0.01;

    private const int MaxRedraws = 1000;

    /// <inheritdoc/>
    public BatchSourceState State
    {
        get => new(_rng.State, -1);
        set => _rng.State = value.Rng;
    }
}
