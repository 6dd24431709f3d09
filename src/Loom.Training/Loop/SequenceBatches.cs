// Batches of labelled sequences for supervised fine-tuning (SFT, DPO): each item is one or more rows
// (one conversation; or DPO's chosen and rejected answers), a batch takes ItemsPerBatch items and lays
// their rows out row-major by row index within the item — for DPO the chosen rows of every pair first,
// then the rejected ones, as TRL's concatenated_forward — each row right-padded to the batch's longest
// with the pad id and target −100. With right padding the causal mask keeps every real token from
// attending to padding, so padding changes no loss or gradient (DocumentBatches' test).
// Order: a seeded shuffle per epoch (or the file order, for evaluation); the state is the epoch's seed
// plus the items taken, so a resumed run replays the very same batches. One buffer pair per batch shape.
namespace Loom.Training.Loop;

/// <summary>Padded batches over items of labelled rows.</summary>
public sealed class SequenceBatches : IBatchSource
{
    private readonly IReadOnlyList<LabeledSequence[]> _items;
    private readonly int _itemsPerBatch, _padId, _rows;
    private readonly bool _shuffle;
    private readonly SplitMix64 _rng;
    private readonly int[] _order;
    private ulong _epochSeed;
    private int _taken = -1;   // items handed out of the current epoch; −1: no epoch planned
    private readonly Dictionary<(int B, int T), (int[] Inputs, int[] Targets)> _buffers = new();

    /// <param name="items">Items, each the same number of rows.</param>
    /// <param name="itemsPerBatch">Items per batch (the last batch of an epoch may hold fewer).</param>
    /// <param name="padId">Input id at padded positions.</param>
    /// <param name="seed">Shuffle seed.</param>
    /// <param name="shuffle">False: file order every epoch (evaluation).</param>
    public SequenceBatches(IReadOnlyList<LabeledSequence[]> items, int itemsPerBatch, int padId, int seed, bool shuffle = true)
    {
        if (items.Count == 0) throw new ArgumentException("No examples to batch.");
        if (itemsPerBatch < 1) throw new ArgumentException($"itemsPerBatch is {itemsPerBatch}; it must be at least 1.");
        _rows = items[0].Length;
        foreach (var item in items)
        {
            if (item.Length != _rows) throw new ArgumentException($"Every item must have {_rows} rows.");
            foreach (var row in item)
                if (row.Inputs.Length == 0 || row.Inputs.Length != row.Targets.Length) throw new ArgumentException("A row needs inputs and targets of the same, non-zero length.");
        }
        _items = items;
        _itemsPerBatch = itemsPerBatch;
        _padId = padId;
        _shuffle = shuffle;
        _rng = new SplitMix64((ulong)seed);
        _order = new int[items.Count];
    }

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => (_items.Count + _itemsPerBatch - 1) / _itemsPerBatch;

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
            _taken = (int)value.Position;
        }
    }

    /// <inheritdoc/>
    public PaddedBatch Next()
    {
        if (_taken < 0 || _taken >= _items.Count) PlanEpoch();
        int n = Math.Min(_itemsPerBatch, _items.Count - _taken);
        int T = 0;
        for (int k = 0; k < n; k++)
            foreach (var row in _items[_order[_taken + k]]) T = Math.Max(T, row.Inputs.Length);
        int B = n * _rows;
        if (!_buffers.TryGetValue((B, T), out var buffers)) _buffers[(B, T)] = buffers = (new int[B * T], new int[B * T]);
        var (inputs, targets) = buffers;
        Array.Fill(inputs, _padId);
        Array.Fill(targets, Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex);
        int real = 0, labeled = 0;
        for (int k = 0; k < n; k++)
        {
            var item = _items[_order[_taken + k]];
            for (int r = 0; r < _rows; r++)
            {
                int b = r * n + k;   // row r of every item together: DPO's chosen rows, then its rejected rows
                item[r].Inputs.CopyTo(inputs.AsSpan(b * T));
                item[r].Targets.CopyTo(targets.AsSpan(b * T));
                real += item[r].Inputs.Length;
            }
        }
        foreach (int t in targets) if (t != Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex) labeled++;
        _taken += n;
        return new PaddedBatch(inputs, targets, B, T, real) { LossWeight = _rows == 1 ? labeled : n };
    }

    private void PlanEpoch()
    {
        _epochSeed = _rng.State;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (_shuffle)
            for (int i = _order.Length - 1; i > 0; i--)
            {
                int j = _rng.Next(i + 1);
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
        _taken = 0;
    }
}
