// Packed batches for supervised fine-tuning (sft.packing: true): several short conversations share one
// row of at most max_length positions with NO attention between them. Each row carries position ids that
// restart at 0 for every conversation (HF's DataCollatorWithFlattening, TRL's padding_free), which the
// causal families turn into a block-diagonal causal mask and per-document positions (TokenBatch.PositionIds),
// so a packed conversation gets exactly the logits, loss and gradients it gets alone (PackedDocumentsTests).
// Targets stay each conversation's own (−100 outside assistant tokens, and the last input of a conversation
// never predicts the next conversation's first token, as ToLabeled ends each conversation's targets there).
// Rows are filled per epoch by first-fit decreasing on the shuffled conversations (TRL's pack_dataset
// "bfd"/"ffd" strategies: whole sequences, never split), then the rows themselves are shuffled; a batch is
// RowsPerBatch rows right-padded to its longest row (padding: its own "document" with target −100).
// State: the epoch's seed plus the rows taken, so a resumed run replays the very same batches.
namespace Loom.Training.Loop;

/// <summary>Rows of packed labelled sequences with per-document position ids.</summary>
public sealed class PackedSequenceBatches : IBatchSource
{
    private readonly IReadOnlyList<LabeledSequence> _items;
    private readonly int _rowsPerBatch, _capacity, _padId;
    private readonly bool _shuffle;
    private readonly SplitMix64 _rng;
    private readonly int[] _order;                 // (N) items of the epoch, shuffled, then by length descending
    private readonly List<List<int>> _rows = [];   // the epoch's rows: item indices, in packing order
    private readonly List<int> _rowLength = [];    // tokens in each row
    private ulong _epochSeed;
    private int _taken = -1;                       // rows handed out of the current epoch; −1: no epoch planned
    private readonly Dictionary<(int B, int T), (int[] Inputs, int[] Targets, int[] Positions)> _buffers = new();

    /// <param name="items">Labelled sequences (one per conversation), each at most <paramref name="capacity"/> inputs.</param>
    /// <param name="rowsPerBatch">Packed rows per batch.</param>
    /// <param name="capacity">Positions per row (train.max_length).</param>
    /// <param name="padId">Input id at padded positions.</param>
    /// <param name="seed">Shuffle seed.</param>
    /// <param name="shuffle">False: file order every epoch (evaluation).</param>
    public PackedSequenceBatches(IReadOnlyList<LabeledSequence> items, int rowsPerBatch, int capacity, int padId, int seed, bool shuffle = true)
    {
        if (items.Count == 0) throw new ArgumentException("No examples to pack.");
        if (rowsPerBatch < 1) throw new ArgumentException($"rowsPerBatch is {rowsPerBatch}; it must be at least 1.");
        foreach (var row in items)
        {
            if (row.Inputs.Length == 0 || row.Inputs.Length != row.Targets.Length) throw new ArgumentException("A sequence needs inputs and targets of the same, non-zero length.");
            if (row.Inputs.Length > capacity) throw new ArgumentException($"A sequence of {row.Inputs.Length} inputs does not fit a packed row of {capacity} (train.max_length).");
        }
        _items = items;
        _rowsPerBatch = rowsPerBatch;
        _capacity = capacity;
        _padId = padId;
        _shuffle = shuffle;
        _rng = new SplitMix64((ulong)seed);
        _order = new int[items.Count];
        // Size the epoch from a plan of its own RNG's copy, leaving the stream untouched.
        var probe = new PackedSequenceBatches(this);
        probe.PlanEpoch();
        RowsPerEpoch = probe._rows.Count;
    }

    private PackedSequenceBatches(PackedSequenceBatches other)
    {
        _items = other._items; _rowsPerBatch = other._rowsPerBatch; _capacity = other._capacity; _padId = other._padId; _shuffle = other._shuffle;
        _rng = new SplitMix64(other._rng.State);
        _order = new int[_items.Count];
    }

    /// <summary>Packed rows in the first epoch (later epochs differ by a few rows at most, as their shuffles do).</summary>
    public int RowsPerEpoch { get; }

    /// <summary>Batches per epoch (of the first epoch's rows).</summary>
    public int BatchesPerEpoch => (RowsPerEpoch + _rowsPerBatch - 1) / _rowsPerBatch;

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
        if (_taken < 0 || _taken >= _rows.Count) PlanEpoch();
        int B = Math.Min(_rowsPerBatch, _rows.Count - _taken);
        int T = 0;
        for (int r = 0; r < B; r++) T = Math.Max(T, _rowLength[_taken + r]);
        if (!_buffers.TryGetValue((B, T), out var buffers)) _buffers[(B, T)] = buffers = (new int[B * T], new int[B * T], new int[B * T]);
        var (inputs, targets, positions) = buffers;
        Array.Fill(inputs, _padId);
        Array.Fill(targets, Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex);
        int real = 0, labeled = 0;
        for (int r = 0; r < B; r++)
        {
            int t = r * T;
            foreach (int i in _rows[_taken + r])
            {
                var item = _items[i];
                int n = item.Inputs.Length;
                item.Inputs.CopyTo(inputs.AsSpan(t));
                item.Targets.CopyTo(targets.AsSpan(t));
                for (int k = 0; k < n; k++) positions[t + k] = k;
                t += n;
                real += n;
            }
            for (int k = 0; t < (r + 1) * T; t++, k++) positions[t] = k;   // padding: a document of its own, no targets
        }
        foreach (int x in targets) if (x != Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex) labeled++;
        _taken += B;
        return new PaddedBatch(inputs, targets, B, T, real) { LossWeight = labeled, PositionIds = positions };
    }

    // Shuffle (or keep file order), order by length descending (stable), first-fit into rows of _capacity,
    // then shuffle the rows so long and short rows interleave across the epoch.
    private void PlanEpoch()
    {
        _epochSeed = _rng.State;
        int n = _order.Length;
        for (int i = 0; i < n; i++) _order[i] = i;
        if (_shuffle)
            for (int i = n - 1; i > 0; i--)
            {
                int j = _rng.Next(i + 1);
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
        var keys = new long[n];
        for (int i = 0; i < n; i++) keys[i] = ((long)(_capacity - _items[_order[i]].Inputs.Length) << 32) | (uint)i;
        Array.Sort(keys, _order);
        _rows.Clear();
        _rowLength.Clear();
        foreach (int item in _order)
        {
            int len = _items[item].Inputs.Length, row = -1;
            for (int r = 0; r < _rows.Count; r++)
                if (_rowLength[r] + len <= _capacity) { row = r; break; }
            if (row < 0) { _rows.Add([]); _rowLength.Add(0); row = _rows.Count - 1; }
            _rows[row].Add(item);
            _rowLength[row] += len;
        }
        if (_shuffle)
            for (int i = _rows.Count - 1; i > 0; i--)
            {
                int j = _rng.Next(i + 1);
                (_rows[i], _rows[j]) = (_rows[j], _rows[i]);
                (_rowLength[i], _rowLength[j]) = (_rowLength[j], _rowLength[i]);
            }
        _taken = 0;
    }
}
