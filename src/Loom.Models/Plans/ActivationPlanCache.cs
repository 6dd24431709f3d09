// The planned activation blocks of the batch shapes a model has seen. Length-bucketed batches and
// dynamic padding cycle through a few (B, T), each planned once and reused, so a training loop over
// buckets allocates only while warming up; past Capacity shapes (generation without a cache grows T
// by one each token) every block is freed and planning starts over.
namespace Loom.Models.Plans;

/// <summary>Activation plans by (B, T), shared by every family.</summary>
public sealed class ActivationPlanCache<TPlan> : IDisposable where TPlan : ActivationPlan
{
    private readonly Dictionary<(int B, int T, int Slot), TPlan> _plans = new();
    private readonly Func<int, int, TPlan> _create;
    private readonly int _capacity;

    /// <param name="create">Plans and allocates the block for (B, T).</param>
    /// <param name="capacity">Shapes kept before all are freed.</param>
    public ActivationPlanCache(Func<int, int, TPlan> create, int capacity = 16)
    {
        _create = create;
        _capacity = capacity;
    }

    /// <summary>The plan in use (the last one asked for), or null.</summary>
    public TPlan? Current { get; private set; }

    /// <summary>Makes the plan for (B, T) current, planning it on first use.</summary>
    public TPlan Use(int batch, int time) => Use(batch, time, 0);

    /// <summary>
    /// Makes the plan for (B, T) in <paramref name="slot"/> current: a pipeline keeps several
    /// micro-batches' activations alive at once, one slot each (slot 0 is every other caller's).
    /// </summary>
    public TPlan Use(int batch, int time, int slot)
    {
        if (Current is { } c && _key == (batch, time, slot)) return c;
        if (!_plans.TryGetValue((batch, time, slot), out var plan))
        {
            if (_plans.Count >= _capacity) Clear();
            _plans[(batch, time, slot)] = plan = _create(batch, time);
        }
        _key = (batch, time, slot);
        return Current = plan;
    }

    private (int, int, int) _key;

    /// <summary>Frees every block.</summary>
    public void Clear()
    {
        foreach (var p in _plans.Values) p.Dispose();
        _plans.Clear();
        Current = null;
    }

    public void Dispose() => Clear();
}
