// Dynamic padding with length-bucketed batching for causal language models: documents of
// different lengths are grouped by length (rounded up to BucketWidth), each batch is padded only to
// its own longest input, and padded positions get target −100 so the loss ignores them. With right
// padding the causal mask already keeps every real token from attending to padding, so padded and
// unpadded sequences give the same loss and gradients (tested). Fewer wasted positions than padding
// everything to the maximum length; the model plans one activation block per distinct shape.
namespace Loom.Training.Loop;

/// <summary>
/// One padded batch: inputs and targets, B × T, row-major. The arrays are reused for the next batch of the
/// same shape, so use (or copy) a batch before asking for the next one.
/// </summary>
public readonly record struct PaddedBatch(int[] Inputs, int[] Targets, int Batch, int Time, int RealTokens)
{
    /// <summary>
    /// What the batch's mean loss is a mean over, for weighting evaluation batches: its labelled targets
    /// (SFT's assistant tokens), its pairs (DPO); 0 means <see cref="RealTokens"/>.
    /// </summary>
    public int LossWeight { get; init; }

    /// <summary>
    /// Position ids (B × T) when rows pack several documents (<see cref="PackedSequenceBatches"/>): each
    /// document counts from 0 and attends only to itself; null for one sequence per row.
    /// </summary>
    public int[]? PositionIds { get; init; }

    /// <summary>The batch as a model reads it (with its position ids when packed).</summary>
    public Loom.Models.TokenBatch Tokens => new(Inputs, Batch, Time) { PositionIds = PositionIds };

    /// <summary>
    /// The encoder's side of an encoder-decoder batch (T5): source ids, their lengths, (B, S); then
    /// <see cref="Inputs"/> are the decoder inputs and <see cref="Targets"/> the labels. Null for
    /// decoder-only and encoder-only batches.
    /// </summary>
    public SourceBatch? Sources { get; init; }

    /// <summary>
    /// The model's mean loss on this batch: ILanguageModel.Forward, or for a batch with
    /// <see cref="Sources"/> the encoder-decoder forward, which the model must then offer.
    /// </summary>
    public float ForwardOn(Loom.Models.ILanguageModel model)
    {
        if (Sources is not { } sources) return PositionIds is null ? model.Forward(Inputs, Targets, Batch, Time) : model.Forward(Tokens, Targets);
        var conditioned = model as ISourceConditionedModel
            ?? throw new NotSupportedException($"The batch holds encoder inputs (a text-to-text batch) but the model ({model.GetType().Name}) is not an encoder-decoder model; use model_type: t5.");
        return conditioned.Forward(sources, Inputs, Targets, Batch, Time);
    }
}

/// <summary>Length-bucketed, dynamically padded batches over a set of token documents.</summary>
public sealed class DocumentBatches : IBatchSource
{
    private readonly List<int[]> _documents;
    private readonly int _batchSize, _maxLength, _bucketWidth, _padId;
    private readonly SplitMix64 _rng;
    private readonly Queue<int[]> _epoch = new();
    // The RNG state the current epoch was planned from and how many documents of it were handed out:
    // enough to rebuild the exact position on resume.
    private ulong _epochSeed;
    private long _epochTaken;
    private int[]? _order;                  // (N) document indices of the epoch being planned
    private long[]? _keys;                  // (N) bucket << 32 | shuffled position, the sort keys
    private (int Start, int Count)[]? _batchStarts; // (≤ N) batches as runs of _order
    private readonly List<int[]> _current;
    // One (inputs, targets) pair per batch shape, reused: a training loop allocates nothing per batch
    // once every shape has been seen.
    private readonly Dictionary<(int B, int T), (int[] Inputs, int[] Targets)> _buffers = new();

    /// <summary>Batches handed out so far.</summary>
    public long Produced { get; private set; }

    /// <param name="documents">Token ids per document; each yields inputs of up to <paramref name="maxLength"/> tokens.</param>
    /// <param name="batchSize">Most documents per batch.</param>
    /// <param name="maxLength">Longest input; longer documents are truncated.</param>
    /// <param name="bucketWidth">Documents are grouped by input length rounded up to a multiple of this.</param>
    /// <param name="padId">Input id at padded positions (never predicted, never attended to by real tokens).</param>
    /// <param name="seed">Seed of the shuffles.</param>
    public DocumentBatches(IEnumerable<int[]> documents, int batchSize, int maxLength, int bucketWidth = 32, int padId = 0, int seed = 1)
    {
        if (batchSize < 1 || maxLength < 1 || bucketWidth < 1) throw new ArgumentException("batchSize, maxLength and bucketWidth must be positive.");
        _documents = documents.Where(d => d.Length >= 2).Select(d => d.Length > maxLength + 1 ? d[..(maxLength + 1)] : d).ToList();
        if (_documents.Count == 0) throw new ArgumentException("No document has the two tokens a (input, target) pair needs.");
        _batchSize = batchSize;
        _maxLength = maxLength;
        _bucketWidth = bucketWidth;
        _padId = padId;
        _rng = new SplitMix64((ulong)seed);
        _current = new List<int[]>(batchSize);
    }

    /// <inheritdoc/>
    public BatchSourceState State
    {
        get => _epoch.Count == 0 ? new(_rng.State, -1) : new(_epochSeed, _epochTaken);
        set
        {
            _epoch.Clear();
            _rng.State = value.Rng;
            if (value.Position < 0) return;       // between epochs: the next Next() plans from Rng
            PlanEpoch();
            for (long i = 0; i < value.Position && _epoch.Count > 0; i++) _epoch.Dequeue();
            _epochTaken = value.Position;
        }
    }

    /// <summary>The padded input length a document of <paramref name="tokens"/> tokens falls into.</summary>
    public int BucketOf(int tokens) => Math.Min(_maxLength, (tokens - 1 + _bucketWidth - 1) / _bucketWidth * _bucketWidth);

    /// <summary>The next batch; a new epoch (reshuffled) starts when the last one is used up.</summary>
    public PaddedBatch Next()
    {
        if (_epoch.Count == 0) PlanEpoch();
        var docs = _current;
        docs.Clear();
        while (docs.Count < _batchSize && _epoch.Count > 0)
        {
            var d = _epoch.Peek();
            if (docs.Count > 0 && BucketOf(d.Length) != BucketOf(docs[0].Length)) break; // a batch never mixes buckets
            docs.Add(_epoch.Dequeue());
            _epochTaken++;
        }
        int T = 0;
        foreach (var d in docs) T = Math.Max(T, d.Length - 1);
        int B = docs.Count;
        if (!_buffers.TryGetValue((B, T), out var buffers)) _buffers[(B, T)] = buffers = (new int[B * T], new int[B * T]);
        var (inputs, targets) = buffers;
        Array.Fill(inputs, _padId);
        Array.Fill(targets, Kernels.IgnoreIndex);
        int real = 0;
        for (int b = 0; b < B; b++)
        {
            var d = docs[b];
            d.AsSpan(0, d.Length - 1).CopyTo(inputs.AsSpan(b * T));
            d.AsSpan(1, d.Length - 1).CopyTo(targets.AsSpan(b * T));
            real += d.Length - 1;
        }
        Produced++;
        return new PaddedBatch(inputs, targets, B, T, real);
    }

    // Shuffle, then order by bucket so consecutive documents share a bucket, then shuffle the order of
    // the resulting batches so buckets interleave across the epoch. Works in arrays sized once, so a
    // new epoch allocates nothing.
    private void PlanEpoch()
    {
        _epochSeed = _rng.State;
        _epochTaken = 0;
        int n = _documents.Count;
        _order ??= new int[n];
        _keys ??= new long[n];
        _batchStarts ??= new (int, int)[n];
        for (int i = 0; i < n; i++) _order[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = _rng.Next(i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
        // Sort by (bucket, shuffled position): a stable grouping by bucket.
        for (int i = 0; i < n; i++) _keys[i] = ((long)BucketOf(_documents[_order[i]].Length) << 32) | (uint)i;
        Array.Sort(_keys, _order, 0, n);
        int batches = 0;
        for (int i = 0; i < n;)
        {
            int bucket = (int)(_keys[i] >> 32), start = i;
            while (i < n && i - start < _batchSize && (int)(_keys[i] >> 32) == bucket) i++;
            _batchStarts[batches++] = (start, i - start);
        }
        for (int i = batches - 1; i > 0; i--)
        {
            int j = _rng.Next(i + 1);
            (_batchStarts[i], _batchStarts[j]) = (_batchStarts[j], _batchStarts[i]);
        }
        for (int b = 0; b < batches; b++)
        {
            var (start, count) = _batchStarts[b];
            for (int k = 0; k < count; k++) _epoch.Enqueue(_documents[_order[start + k]]);
        }
    }

    private static class Kernels
    {
        public const int IgnoreIndex = Loom.Core.Kernels.CrossEntropy.DefaultIgnoreIndex;
    }
}
