// Batches of classification examples with dynamic padding: each batch is padded (right padding, the
// attention mask marking real tokens) only to its own longest sequence. With length bucketing
// ("uniform-length batching") the examples are sorted by length and cut into batches of similar
// length, and the order of the batches is shuffled by a seeded generator each epoch; without it the
// examples are shuffled and padded to the longest of each batch. pad_to_max_length pads every batch
// to max_length (the ladder's baseline). An epoch's plan depends only on (seed, epoch), so a resumed
// run rebuilds it and continues at the same batch. Buffers are allocated once, at B × max_length, and
// reused: a batch is a view valid until the next one.
using Loom.Models;
using Loom.Models.Classification;
using Loom.Training.Loop;

namespace Loom.Training.Classification;

/// <summary>Plans and fills padded batches of encoded examples.</summary>
public sealed class ClassificationBatches
{
    private readonly IReadOnlyList<EncodedExample> _examples;
    private readonly int _batchSize, _maxLength, _padId, _labelWidth;
    private readonly bool _bucketed, _padToMax;
    private readonly ulong _seed;
    private readonly int[] _ids, _types, _mask, _classes;    // (B·max_length) ×3, (B)
    private readonly float[] _values;                        // (B·num_labels)

    /// <param name="examples">The examples.</param>
    /// <param name="batchSize">Most examples per batch.</param>
    /// <param name="maxLength">The longest sequence (every example already fits).</param>
    /// <param name="padId">Id at padded positions.</param>
    /// <param name="labelWidth">num_labels (targets per example for regression and multi-label).</param>
    /// <param name="bucketed">Length-bucketed batches (uniform length) instead of random ones.</param>
    /// <param name="padToMax">Pad every batch to <paramref name="maxLength"/>.</param>
    /// <param name="seed">Seed of the shuffles.</param>
    public ClassificationBatches(IReadOnlyList<EncodedExample> examples, int batchSize, int maxLength, int padId, int labelWidth, bool bucketed, bool padToMax, int seed)
    {
        if (examples.Count == 0) throw new ArgumentException("There are no examples to batch.");
        if (batchSize < 1 || maxLength < 1 || labelWidth < 1) throw new ArgumentException("batchSize, maxLength and labelWidth must be positive.");
        _examples = examples;
        _batchSize = batchSize;
        _maxLength = maxLength;
        _padId = padId;
        _labelWidth = labelWidth;
        _bucketed = bucketed;
        _padToMax = padToMax;
        _seed = (ulong)seed;
        int longest = examples.Max(e => e.Ids.Length);
        if (longest > maxLength) throw new ArgumentException($"An example has {longest} tokens, more than max_length {maxLength}.");
        _ids = new int[batchSize * maxLength];
        _types = new int[batchSize * maxLength];
        _mask = new int[batchSize * maxLength];
        _classes = new int[batchSize];
        _values = new float[batchSize * labelWidth];
    }

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => (_examples.Count + _batchSize - 1) / _batchSize;

    /// <summary>The example indices of each batch of epoch <paramref name="epoch"/> (shuffled) or, with shuffle false, in a fixed order.</summary>
    public int[][] Plan(int epoch, bool shuffle = true)
    {
        int n = _examples.Count;
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new SplitMix64(_seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1)));
        if (shuffle && !_bucketed) Shuffle(order, rng);
        if (_bucketed)
        {
            // Ties broken by a seeded key so equal-length examples do not always share a batch.
            var tie = new ulong[n];
            for (int i = 0; i < n; i++) tie[i] = shuffle ? rng.NextUInt64() : (ulong)i;
            Array.Sort(order, (a, b) => _examples[a].Ids.Length != _examples[b].Ids.Length
                ? _examples[a].Ids.Length.CompareTo(_examples[b].Ids.Length) : tie[a].CompareTo(tie[b]));
        }
        var batches = new int[(n + _batchSize - 1) / _batchSize][];
        for (int b = 0; b < batches.Length; b++) batches[b] = order[(b * _batchSize)..Math.Min(n, (b + 1) * _batchSize)];
        if (shuffle && _bucketed) Shuffle(batches, rng);
        return batches;
    }

    private static void Shuffle<T>(T[] items, SplitMix64 rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Pads the examples at <paramref name="indices"/> into the shared buffers; returns (B, T, real tokens).</summary>
    public (int Batch, int Time, int RealTokens) Fill(ReadOnlySpan<int> indices)
    {
        int b = indices.Length;
        if (b < 1 || b > _batchSize) throw new ArgumentException($"A batch holds 1..{_batchSize} examples; got {b}.");
        int t = 1;
        if (_padToMax) t = _maxLength;
        else foreach (int i in indices) t = Math.Max(t, _examples[i].Ids.Length);
        int real = 0;
        for (int r = 0; r < b; r++)
        {
            var e = _examples[indices[r]];
            var ids = _ids.AsSpan(r * t, t);
            var types = _types.AsSpan(r * t, t);
            var mask = _mask.AsSpan(r * t, t);
            e.Ids.CopyTo(ids);
            e.TypeIds.CopyTo(types);
            ids[e.Ids.Length..].Fill(_padId);
            types[e.Ids.Length..].Clear();
            mask[..e.Ids.Length].Fill(1);
            mask[e.Ids.Length..].Clear();
            real += e.Ids.Length;
            _classes[r] = e.Class;
            if (e.Targets is { } targets) targets.CopyTo(_values.AsSpan(r * _labelWidth, _labelWidth));
        }
        _filled = (b, t);
        return (b, t, real);
    }

    private (int B, int T) _filled;

    /// <summary>The last filled batch as the model reads it.</summary>
    public TokenBatch Batch => new(_ids.AsSpan(0, _filled.B * _filled.T), _filled.B, _filled.T)
    {
        TokenTypes = _types.AsSpan(0, _filled.B * _filled.T),
        AttentionMask = _mask.AsSpan(0, _filled.B * _filled.T),
    };

    /// <summary>The last filled batch's labels for a problem of <paramref name="type"/>.</summary>
    public ClassificationLabels Labels(ProblemType type) => type == ProblemType.SingleLabel
        ? ClassificationLabels.FromClasses(_classes.AsSpan(0, _filled.B))
        : ClassificationLabels.FromValues(_values.AsSpan(0, _filled.B * _labelWidth));
}
