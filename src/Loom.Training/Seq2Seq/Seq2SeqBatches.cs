// Dynamically padded text-to-text batches (HF's DataCollatorForSeq2Seq): each batch's sources are
// right-padded with the pad id to its longest source (the encoder masks them out by length), its
// labels to its longest target with −100 (ignored by the loss), and the decoder inputs are the labels
// shifted right behind decoder_start_token_id (TeacherForcing). A batch holds up to BatchSize
// examples, or — when MaxTokens is set — as many as keep B × (longest source + longest target)
// within it. Training order is reshuffled every epoch from a SplitMix64; the state (the RNG at the
// epoch's start, examples taken since) restores the exact position on resume. Evaluation batches
// (shuffle off) go through the examples in file order.
using Loom.Training.Loop;

namespace Loom.Training.Seq2Seq;

/// <summary>Padded (source, decoder input, label) batches over encoded examples.</summary>
public sealed class Seq2SeqBatches : IBatchSource
{
    private readonly IReadOnlyList<Seq2SeqExample> _examples;
    private readonly int _batchSize, _maxTokens, _padId, _decoderStart;
    private readonly bool _shuffle;
    private readonly SplitMix64 _rng;
    private readonly int[] _order;                 // (N) example indices of the current epoch
    private ulong _epochSeed;
    private long _taken = -1;                      // examples of the epoch handed out; −1: no epoch planned
    // One set of arrays per batch shape, reused: nothing is allocated per batch once each shape has been seen.
    private readonly Dictionary<(int B, int S, int T), (int[] Sources, int[] Lengths, int[] Decoder, int[] Labels)> _buffers = new();

    /// <param name="examples">The encoded examples.</param>
    /// <param name="batchSize">Most examples per batch.</param>
    /// <param name="maxTokens">When above 0, most padded source + target positions per batch (B × (S + T)); one example always fits.</param>
    /// <param name="padId">Pad id of sources and decoder inputs.</param>
    /// <param name="decoderStartId">The decoder start token (T5: the pad id).</param>
    /// <param name="shuffle">Reshuffle every epoch (training) or keep file order (evaluation).</param>
    /// <param name="seed">Seed of the shuffles.</param>
    public Seq2SeqBatches(IReadOnlyList<Seq2SeqExample> examples, int batchSize, int maxTokens, int padId, int decoderStartId, bool shuffle, int seed)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException("There are no examples to batch.");
        if (batchSize < 1) throw new ArgumentException($"batch_size is {batchSize}; it must be at least 1.");
        if (maxTokens < 0) throw new ArgumentException($"max_tokens is {maxTokens}; it must be 0 (off) or positive.");
        _examples = examples;
        _batchSize = batchSize;
        _maxTokens = maxTokens;
        _padId = padId;
        _decoderStart = decoderStartId;
        _shuffle = shuffle;
        _rng = new SplitMix64((ulong)seed);
        _order = new int[examples.Count];
    }

    /// <summary>Batches in one pass over the examples in file order (what evaluation runs).</summary>
    public int BatchesPerPass()
    {
        int batches = 0;
        for (int i = 0; i < _examples.Count; batches++) i += Take(i, shuffled: false);
        return batches;
    }

    /// <inheritdoc/>
    public BatchSourceState State
    {
        get => _taken < 0 ? new(_rng.State, -1) : new(_epochSeed, _taken);
        set
        {
            _rng.State = value.Rng;
            _taken = -1;
            if (value.Position < 0) return;
            PlanEpoch();
            _taken = value.Position;
        }
    }

    /// <inheritdoc/>
    public PaddedBatch Next()
    {
        if (_taken < 0 || _taken >= _order.Length) PlanEpoch();
        int first = (int)_taken;
        int count = Take(first, shuffled: true);
        _taken += count;
        int S = 0, T = 0;
        for (int k = 0; k < count; k++)
        {
            var e = _examples[_order[first + k]];
            S = Math.Max(S, e.Source.Length);
            T = Math.Max(T, e.Labels.Length);
        }
        if (!_buffers.TryGetValue((count, S, T), out var buffers))
            _buffers[(count, S, T)] = buffers = (new int[count * S], new int[count], new int[count * T], new int[count * T]);
        var (sources, lengths, decoder, labels) = buffers;
        Array.Fill(sources, _padId);
        Array.Fill(labels, TeacherForcing.IgnoreIndex);
        int real = 0;
        for (int b = 0; b < count; b++)
        {
            var e = _examples[_order[first + b]];
            e.Source.CopyTo(sources.AsSpan(b * S));
            lengths[b] = e.Source.Length;
            e.Labels.CopyTo(labels.AsSpan(b * T));
            real += e.Labels.Length;
        }
        TeacherForcing.ShiftRight(labels, T, _decoderStart, _padId, decoder);
        return new PaddedBatch(decoder, labels, count, T, real) { Sources = new SourceBatch(sources, lengths, S) };
    }

    // How many examples from position `first` (of the epoch's order, or of the file) make the next batch.
    private int Take(int first, bool shuffled)
    {
        int n = _examples.Count, count = 0, S = 0, T = 0;
        while (first + count < n && count < _batchSize)
        {
            var e = _examples[shuffled ? _order[first + count] : first + count];
            int s = Math.Max(S, e.Source.Length), t = Math.Max(T, e.Labels.Length);
            if (_maxTokens > 0 && count > 0 && (long)(count + 1) * (s + t) > _maxTokens) break;
            S = s; T = t; count++;
        }
        return count;
    }

    private void PlanEpoch()
    {
        _epochSeed = _rng.State;
        _taken = 0;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (!_shuffle) return;
        for (int i = _order.Length - 1; i > 0; i--)
        {
            int j = _rng.Next(i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
    }
}
