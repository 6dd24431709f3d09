// The one native block the plans of an ActivationPlanCache slot share (issue 12's memory fix). Plans
// of different (B, T) are used one at a time — a forward and its backward run on one shape, and the
// next shape's forward rewrites every region it reads — so one block sized for the largest shape seen
// serves them all: memory is that of the largest shape, not the sum over shapes (uniform-length
// batching cycled through up to 16 blocks: peak RSS 756 → 1,903 MiB). The block only grows; a plan
// reads through this holder, so a plan made before a growth sees the new block.
using Loom.Core.Tensors;

namespace Loom.Models.Plans;

/// <summary>A growable native block shared by the activation plans of one cache slot.</summary>
internal sealed unsafe class ActivationMemory : IDisposable
{
    private NativeBuffer? _buffer;

    /// <summary>Bytes held (0 before the first plan).</summary>
    public long Bytes => _buffer?.ByteLength ?? 0;

    /// <summary>Start of the block.</summary>
    public void* Pointer => (_buffer ?? throw new InvalidOperationException("The activation memory was freed (the model's plans were cleared); run a forward to plan again.")).Pointer;

    /// <summary>Grows the block to at least <paramref name="bytes"/> (fresh, zeroed; the old contents are not kept).</summary>
    public void EnsureCapacity(long bytes)
    {
        if (_buffer != null && _buffer.ByteLength >= bytes) return;
        // Free first, so growing never holds two blocks at once.
        _buffer?.Dispose();
        _buffer = null;
        _buffer = new NativeBuffer(Math.Max(1, bytes));
    }

    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }
}
