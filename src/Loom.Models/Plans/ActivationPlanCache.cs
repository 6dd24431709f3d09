// The planned activations of the batch shapes a model has seen. Length-bucketed batches, dynamic
// padding and the harness's longest-first batches cycle through many (B, T); each is planned once
// (regions, id arrays) and every plan of a slot reads and writes one shared native block, grown to
// the largest shape seen (ActivationMemory): memory is that of the largest shape, and a new shape no
// longer costs a fresh zeroed block (page faults on ~1.1 GB for GPT-2 124M at 2,048 tokens).
// Past Capacity shapes (generation without a KV cache grows T by one each token) the plans are
// dropped and planning starts over; the shared blocks stay.
//
// Sharing is safe because plans of one slot are never alive at once. Audit (2026-12-02), for each
// family, of what must outlive a forward: GPT-2, Llama, BERT, T5 and the masked-LM head keep a
// forward's activations only for the backward of that same forward, on the same shape (the trainer,
// classifiers' bodies, DPO's one concatenated chosen+rejected batch, distillation's two models with
// a cache each, gradient accumulation: forward → backward per micro-batch); every region a forward
// or backward reads is written earlier in that same pass (checked by the families' shape-switch
// tests: a shape run after other shapes gives bit-identical logits, loss and gradients to a fresh
// model); KV caches (Gpt2 Decode/Paged, Llama's, T5DecoderCache) are their own blocks, never plans of
// a cache; LoRA's scratch is its own arrays; pipeline micro-batches in flight use distinct slots, and
// each slot has its own block.
namespace Loom.Models.Plans;

/// <summary>Activation plans by (B, T) and slot, the plans of a slot sharing one native block.</summary>
public sealed class ActivationPlanCache<TPlan> : IDisposable where TPlan : ActivationPlan
{
    private readonly Dictionary<(int B, int T, int Slot), TPlan> _plans = new();
    private readonly Dictionary<int, ActivationMemory> _memory = new();   // slot → the block its plans share
    private readonly Func<int, int, TPlan> _create;
    private readonly int _capacity;

    /// <param name="create">Plans the regions for (B, T) and calls Allocate (the block itself comes from the cache).</param>
    /// <param name="capacity">Shapes kept before all plans are dropped.</param>
    public ActivationPlanCache(Func<int, int, TPlan> create, int capacity = 16)
    {
        _create = create;
        _capacity = capacity;
    }

    /// <summary>The plan in use (the last one asked for), or null.</summary>
    public TPlan? Current { get; private set; }

    /// <summary>Native bytes held: one block per slot, each the size of the largest plan used in it.</summary>
    public long NativeBytes => _memory.Values.Sum(m => m.Bytes);

    /// <summary>Makes the plan for (B, T) current, planning it on first use.</summary>
    public TPlan Use(int batch, int time) => Use(batch, time, 0);

    /// <summary>
    /// Makes the plan for (B, T) in <paramref name="slot"/> current: a pipeline keeps several
    /// micro-batches' activations alive at once, one slot each (slot 0 is every other caller's); the
    /// previous plan of the slot, if another shape, is overwritten by this one's forward.
    /// </summary>
    public TPlan Use(int batch, int time, int slot)
    {
        if (Current is { } c && _key == (batch, time, slot)) return c;
        if (!_plans.TryGetValue((batch, time, slot), out var plan))
        {
            if (_plans.Count >= _capacity) DropPlans();
            plan = _create(batch, time);
            if (!_memory.TryGetValue(slot, out var memory)) _memory[slot] = memory = new ActivationMemory();
            plan.Bind(memory);
            _plans[(batch, time, slot)] = plan;
        }
        _key = (batch, time, slot);
        return Current = plan;
    }

    private (int, int, int) _key;

    private void DropPlans()
    {
        foreach (var p in _plans.Values) p.Dispose();
        _plans.Clear();
        Current = null;
    }

    /// <summary>Frees every plan and block.</summary>
    public void Clear()
    {
        DropPlans();
        foreach (var m in _memory.Values) m.Dispose();
        _memory.Clear();
    }

    public void Dispose() => Clear();
}
