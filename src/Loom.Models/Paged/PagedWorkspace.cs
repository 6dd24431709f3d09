// Scratch for paged forwards: one native block grown (never shrunk) to the largest call seen, cut
// into the call's activations by offset. A bigger batch re-plans by growing once; steady decoding
// allocates nothing.
using Loom.Core.Tensors;

namespace Loom.Models.Paged;

/// <summary>A growable native scratch block handed out as consecutive spans.</summary>
public sealed unsafe class PagedWorkspace : IDisposable
{
    private NativeBuffer? _buffer;
    private long _offset, _capacity;

    /// <summary>Ensures room for <paramref name="floats"/> floats and starts handing out from the beginning.</summary>
    public void Reset(long floats)
    {
        if (floats > _capacity)
        {
            _buffer?.Dispose();
            _capacity = Math.Max(floats, _capacity * 3 / 2);
            _buffer = new NativeBuffer(_capacity * sizeof(float), zero: false);
        }
        _offset = 0;
    }

    /// <summary>The next <paramref name="count"/> floats.</summary>
    public Span<float> Take(long count)
    {
        if (_offset + count > _capacity) throw new InvalidOperationException("Paged workspace overrun: the call was planned too small.");
        var s = new Span<float>((float*)_buffer!.Pointer + _offset, checked((int)count));
        _offset += count;
        return s;
    }

    public void Dispose() { _buffer?.Dispose(); _buffer = null; _capacity = 0; }
}
