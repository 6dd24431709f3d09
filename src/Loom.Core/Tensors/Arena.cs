// Per-step temporaries come from an arena: one block allocated once, handed out by bumping an
// offset, and reset (not freed) at the end of each step, so a training loop allocates nothing.
namespace Loom.Core.Tensors;

/// <summary>A bump allocator over one native block, for temporaries that live one step.</summary>
public sealed class Arena : IDisposable
{
    private readonly NativeBuffer _block;
    private long _offset;

    /// <summary>Creates an arena of <paramref name="capacityBytes"/> bytes.</summary>
    public Arena(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        _block = new NativeBuffer(capacityBytes, zero: false);
    }

    /// <summary>Total bytes available.</summary>
    public long Capacity => _block.ByteLength;

    /// <summary>Bytes handed out since the last <see cref="Reset"/>.</summary>
    public long Used => _offset;

    /// <summary>Most bytes ever in use at once: size the next arena from this.</summary>
    public long HighWater { get; private set; }

    /// <summary>A contiguous, 64-byte-aligned, uninitialised tensor valid until the next <see cref="Reset"/>.</summary>
    public TensorView Allocate(DType dtype, params ReadOnlySpan<int> dims)
    {
        var shape = new TensorShape(dims);
        long offset = Bump(dtype.ByteCount(shape.ElementCount));
        return new TensorView(_block, offset, dtype, shape);
    }

    /// <summary>An uninitialised span of <paramref name="count"/> elements valid until the next <see cref="Reset"/>.</summary>
    public unsafe Span<T> AllocateSpan<T>(int count) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long offset = Bump((long)count * sizeof(T));
        return _block.AsSpan<T>(offset, count);
    }

    /// <summary>Forgets every allocation; the memory is reused by the next ones.</summary>
    public void Reset() => _offset = 0;

    private long Bump(long bytes)
    {
        ObjectDisposedException.ThrowIf(_block.IsDisposed, this);
        long start = (_offset + NativeBuffer.Alignment - 1) & ~(long)(NativeBuffer.Alignment - 1);
        if (start + bytes > _block.ByteLength)
            throw new InvalidOperationException(
                $"Arena of {_block.ByteLength:N0} bytes is full: {bytes:N0} bytes requested with {_offset:N0} in use. " +
                $"Create the arena with at least {start + bytes:N0} bytes (peak so far {Math.Max(HighWater, start + bytes):N0}).");
        _offset = start + bytes;
        if (_offset > HighWater) HighWater = _offset;
        return start;
    }

    /// <summary>Frees the block.</summary>
    public void Dispose() => _block.Dispose();
}
