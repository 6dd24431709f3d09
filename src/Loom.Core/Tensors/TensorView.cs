// A view: owner + byte offset + dtype + shape + strides. It owns nothing, so copying one is
// free and disposing is never its job; reading through a view whose owner was disposed throws
// ObjectDisposedException instead of touching freed memory.
using System.Runtime.CompilerServices;

namespace Loom.Core.Tensors;

/// <summary>A typed, shaped window into a <see cref="NativeBuffer"/>.</summary>
public readonly unsafe struct TensorView
{
    [InlineArray(TensorShape.MaxRank)]
    private struct Strides { private long _element0; }

    private readonly Strides _strides;

    /// <summary>The buffer this view points into.</summary>
    public NativeBuffer Owner { get; }

    /// <summary>Offset of element [0, 0, ...] from the start of <see cref="Owner"/>, in bytes.</summary>
    public long ByteOffset { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Dimensions.</summary>
    public TensorShape Shape { get; }

    /// <summary>A contiguous view of <paramref name="shape"/> at <paramref name="byteOffset"/>; checks it fits.</summary>
    public TensorView(NativeBuffer owner, long byteOffset, DType dtype, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ObjectDisposedException.ThrowIf(owner.IsDisposed, owner);
        long bytes = dtype.ByteCount(shape.ElementCount);
        if (byteOffset < 0 || byteOffset + bytes > owner.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"A {dtype.Name()} tensor of shape {shape} needs {bytes} bytes at offset {byteOffset}, but the buffer holds {owner.ByteLength} bytes.");
        Owner = owner;
        ByteOffset = byteOffset;
        DType = dtype;
        Shape = shape;
        for (int i = 0; i < shape.Rank; i++) _strides[i] = shape.ContiguousStride(i);
    }

    private TensorView(NativeBuffer owner, long byteOffset, DType dtype, TensorShape shape, ReadOnlySpan<long> strides)
    {
        Owner = owner;
        ByteOffset = byteOffset;
        DType = dtype;
        Shape = shape;
        for (int i = 0; i < shape.Rank; i++) _strides[i] = strides[i];
    }

    /// <summary>Number of axes.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Total elements.</summary>
    public long ElementCount => Shape.ElementCount;

    /// <summary>Stride of <paramref name="axis"/> in elements.</summary>
    public long Stride(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if ((uint)a >= (uint)Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {Shape}.");
        return _strides[a];
    }

    /// <summary>True when the elements are laid out row-major with no gaps.</summary>
    public bool IsContiguous
    {
        get
        {
            for (int i = 0; i < Rank; i++)
                if (Shape[i] != 1 && _strides[i] != Shape.ContiguousStride(i)) return false;
            return true;
        }
    }

    /// <summary>Raw pointer to element [0, ...]. Throws after the owner is disposed.</summary>
    public void* Pointer => (byte*)Owner.Pointer + ByteOffset;

    /// <summary>The elements of a contiguous view as a span; <typeparamref name="T"/> must match <see cref="DType"/>.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        DType want = DTypeInfo.Of<T>();
        if (want != DType)
            throw new InvalidOperationException($"This tensor holds {DType.Name()} elements; it cannot be read as {typeof(T).Name} ({want.Name()}).");
        if (!IsContiguous)
            throw new InvalidOperationException($"The view of shape {Shape} is not contiguous; copy it with Ops.Contiguous before reading it as a span.");
        return Owner.AsSpan<T>(ByteOffset, checked((int)ElementCount));
    }

    /// <summary>The same elements with another shape of equal element count; the view must be contiguous.</summary>
    public TensorView Reshape(params ReadOnlySpan<int> dims)
    {
        var shape = new TensorShape(dims);
        if (shape.ElementCount != ElementCount)
            throw new ArgumentException($"Cannot reshape {Shape} ({ElementCount} elements) to {shape} ({shape.ElementCount} elements).");
        if (!IsContiguous)
            throw new InvalidOperationException($"Cannot reshape the non-contiguous view of shape {Shape}; make it contiguous first.");
        return new TensorView(Owner, ByteOffset, DType, shape);
    }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="start"/>+<paramref name="length"/>) of axis 0.</summary>
    public TensorView Slice(int start, int length)
    {
        if (Rank == 0) throw new InvalidOperationException("Cannot slice a scalar.");
        if (start < 0 || length < 0 || start + length > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) is outside axis 0 of shape {Shape}.");
        Span<int> dims = stackalloc int[Rank];
        for (int i = 0; i < Rank; i++) dims[i] = Shape[i];
        dims[0] = length;
        Span<long> strides = stackalloc long[Rank];
        for (int i = 0; i < Rank; i++) strides[i] = _strides[i];
        long offset = ByteOffset + DType.ByteCount(start * _strides[0]);
        return new TensorView(Owner, offset, DType, new TensorShape(dims), strides);
    }

    /// <summary>Swaps two axes without moving data (the result is usually not contiguous).</summary>
    public TensorView Transpose(int axis0, int axis1)
    {
        int a = axis0 < 0 ? axis0 + Rank : axis0, b = axis1 < 0 ? axis1 + Rank : axis1;
        if ((uint)a >= (uint)Rank || (uint)b >= (uint)Rank)
            throw new ArgumentOutOfRangeException(nameof(axis0), $"Axes ({axis0}, {axis1}) are out of range for shape {Shape}.");
        Span<int> dims = stackalloc int[Rank];
        Span<long> strides = stackalloc long[Rank];
        for (int i = 0; i < Rank; i++) { dims[i] = Shape[i]; strides[i] = _strides[i]; }
        (dims[a], dims[b]) = (dims[b], dims[a]);
        (strides[a], strides[b]) = (strides[b], strides[a]);
        return new TensorView(Owner, ByteOffset, DType, new TensorShape(dims), strides);
    }

    public override string ToString() => $"{DType.Name()}{Shape}";
}
