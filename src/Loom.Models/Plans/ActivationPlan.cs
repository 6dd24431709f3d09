// The one activation planner of every model family (llm.c's "acts_memory"): a family lists the
// regions a (B, T) batch needs — each with its shape in a comment — then allocates one aligned
// native block for all of them. Regions are handles that know their length, so a span taken from
// the plan cannot reach past its region; a new batch shape is a new plan, never a resize. A plan made
// with allocate: false only adds up its size (memory planning before anything is allocated): its
// regions of any size are accepted and it can never be allocated. A plan made by an
// ActivationPlanCache does not own its block: the cache binds it to the block all its plans of a
// slot share (ActivationMemory); any other plan gets its own block on first use.
using System.Diagnostics;
using Loom.Core.Tensors;

namespace Loom.Models.Plans;

/// <summary>Plans named float regions of one block, then allocates it once.</summary>
public class ActivationPlan : IDisposable
{
    private static int s_nextId;
    private readonly int _id = Interlocked.Increment(ref s_nextId);
    private long _floats;
    private NativeBuffer? _block;          // its own block (a plan outside a cache), made on first use
    private ActivationMemory? _shared;     // or the block its cache's plans share
    private bool _allocated;
    private readonly bool _planOnly;

    /// <summary>A plan whose block is allocated once its regions are listed.</summary>
    public ActivationPlan() { }

    /// <param name="allocate">False for a plan that only sizes the block (<see cref="Bytes"/>) and is never allocated.</param>
    protected ActivationPlan(bool allocate) => _planOnly = !allocate;

    /// <summary>True for a plan that only sizes its block.</summary>
    public bool IsPlanOnly => _planOnly;

    /// <summary>Reserves <paramref name="count"/> floats (each region starts 64-byte aligned).</summary>
    public ActivationRegion Add(long count)
    {
        if (_allocated) throw new InvalidOperationException("The plan is already allocated; plan a new block for a new shape.");
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_planOnly)
        {
            // Only the size matters; checked so an absurd shape overflows loudly instead of wrapping.
            _floats = checked(_floats + ((count + 15) & ~15L));
            return default;
        }
        if (count > int.MaxValue) throw new OutOfMemoryException($"One activation region of {count:N0} floats exceeds what a span can address; lower the batch size or sequence length.");
        long at = _floats;
        _floats += (count + 15) & ~15L;
        return new ActivationRegion(at, (int)count, _id);
    }

    /// <summary>
    /// Fixes the plan: no region can be added after. Its block (zeroed) is allocated on first use,
    /// unless an <see cref="ActivationPlanCache{TPlan}"/> binds the plan to the block its plans share.
    /// </summary>
    public void Allocate()
    {
        if (_allocated) throw new InvalidOperationException("The plan is already allocated.");
        if (_planOnly) throw new InvalidOperationException("A plan made only to size memory cannot be allocated.");
        _allocated = true;
    }

    /// <summary>Makes the plan read and write <paramref name="memory"/> (grown to fit) instead of a block of its own.</summary>
    internal void Bind(ActivationMemory memory)
    {
        if (!_allocated) throw new InvalidOperationException("Allocate the plan before binding it to shared memory.");
        if (_block != null) throw new InvalidOperationException("The plan already uses a block of its own.");
        memory.EnsureCapacity(Bytes);
        _shared = memory;
    }

    private unsafe void* OwnBlock()
    {
        if (!_allocated) throw new InvalidOperationException("Allocate the plan first.");
        var block = new NativeBuffer(Math.Max(1, _floats) * sizeof(float));
        if (Interlocked.CompareExchange(ref _block, block, null) != null) block.Dispose();   // another thread made it first
        return _block!.Pointer;
    }

    /// <summary>Total bytes planned.</summary>
    public long Bytes => _floats * sizeof(float);

    /// <summary>The floats of <paramref name="region"/>.</summary>
    public unsafe Span<float> this[ActivationRegion region]
    {
        get
        {
            Debug.Assert(region.PlanId == _id || region.IsEmpty, "An activation region was used with a plan other than the one that made it.");
            Debug.Assert(region.Offset + region.Length <= _floats);
            void* block = _shared is { } m ? m.Pointer : _block is { } own ? own.Pointer : OwnBlock();
            return new Span<float>((float*)block + region.Offset, region.Length);
        }
    }

    public virtual void Dispose() => _block?.Dispose();   // shared memory belongs to the cache
}
