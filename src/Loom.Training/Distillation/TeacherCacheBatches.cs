// Batches of a teacher cache's aligned chunks (offline distillation): per epoch a seeded shuffle of the
// chunks, B chunks per batch; inputs are the chunk's T tokens, targets the next T. The chunks of the last
// batch stay readable (TakeChunks) so CachedDistillationObjective looks up the teacher's rows for exactly
// those positions. State: the epoch's seed plus the chunks taken, so a resumed run replays the same batches.
using Loom.Training.Loop;

namespace Loom.Training.Distillation;

/// <summary>Shuffled batches of cached chunks.</summary>
public sealed class TeacherCacheBatches : IBatchSource
{
    private readonly TeacherCache _cache;
    private readonly int _batch;
    private readonly SplitMix64 _rng;
    private readonly int[] _order;
    private ulong _epochSeed;
    private int _taken = -1;
    private readonly int[] _inputs, _targets, _last;
    private readonly int[] _tailInputs, _tailTargets;   // the epoch's last, partial batch (Chunks mod B chunks): planned once
    private int _lastCount;
    private bool _fresh;

    /// <param name="cache">The teacher cache.</param>
    /// <param name="batch">Chunks per batch.</param>
    /// <param name="seed">Shuffle seed.</param>
    public TeacherCacheBatches(TeacherCache cache, int batch, int seed)
    {
        if (batch < 1) throw new ArgumentException($"batch is {batch}; it must be at least 1.");
        _cache = cache;
        _batch = Math.Min(batch, cache.Chunks);
        _rng = new SplitMix64((ulong)seed);
        _order = new int[cache.Chunks];
        _inputs = new int[_batch * cache.ChunkLength];
        _targets = new int[_batch * cache.ChunkLength];
        _last = new int[_batch];
        int tail = cache.Chunks % _batch;
        _tailInputs = new int[tail * cache.ChunkLength];
        _tailTargets = new int[tail * cache.ChunkLength];
    }

    /// <summary>The cache the chunks come from.</summary>
    public TeacherCache Cache => _cache;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => (_cache.Chunks + _batch - 1) / _batch;

    /// <summary>
    /// The chunk indices of the batch handed out last, once (null when already taken or none): a forward on
    /// another source's batch (validation windows) finds none and runs without the teacher.
    /// </summary>
    public ReadOnlySpan<int> TakeChunks()
    {
        if (!_fresh) return default;
        _fresh = false;
        return _last.AsSpan(0, _lastCount);
    }

    /// <inheritdoc/>
    public BatchSourceState State
    {
        get => _taken < 0 ? new(_rng.State, -1) : new(_epochSeed, _taken);
        set
        {
            _rng.State = value.Rng;
            _taken = -1;
            _fresh = false;
            if (value.Position < 0) return;
            PlanEpoch();
            _taken = (int)value.Position;
        }
    }

    /// <inheritdoc/>
    public PaddedBatch Next()
    {
        if (_taken < 0 || _taken >= _order.Length) PlanEpoch();
        int B = Math.Min(_batch, _order.Length - _taken), T = _cache.ChunkLength;
        var inputs = B == _batch ? _inputs : _tailInputs;
        var targets = B == _batch ? _targets : _tailTargets;
        for (int b = 0; b < B; b++)
        {
            int c = _order[_taken + b];
            _last[b] = c;
            _cache.Tokens.AsSpan(c * T, T).CopyTo(inputs.AsSpan(b * T));
            _cache.Tokens.AsSpan(c * T + 1, T).CopyTo(targets.AsSpan(b * T));
        }
        _lastCount = B;
        _fresh = true;
        _taken += B;
        return new PaddedBatch(inputs, targets, B, T, B * T);
    }

    private void PlanEpoch()
    {
        _epochSeed = _rng.State;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        for (int i = _order.Length - 1; i > 0; i--)
        {
            int j = _rng.Next(i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
        _taken = 0;
    }
}
