// Convenience owner for a single tensor: one NativeBuffer sized for one view. Models plan many
// views into one buffer instead; this is for tests, tools and one-off tensors.
namespace Loom.Core.Tensors;

/// <summary>A tensor that owns its own native block.</summary>
public sealed class Tensor : IDisposable
{
    /// <summary>The owned block.</summary>
    public NativeBuffer Buffer { get; }

    /// <summary>The contiguous view covering the block.</summary>
    public TensorView View { get; }

    private Tensor(DType dtype, TensorShape shape)
    {
        Buffer = new NativeBuffer(dtype.ByteCount(shape.ElementCount));
        View = new TensorView(Buffer, 0, dtype, shape);
    }

    /// <summary>A zero-filled tensor.</summary>
    public static Tensor Zeros(DType dtype, params ReadOnlySpan<int> dims) => new(dtype, new TensorShape(dims));

    /// <summary>A f32 tensor holding a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params ReadOnlySpan<int> dims)
    {
        var shape = new TensorShape(dims);
        if (shape.ElementCount != values.Length)
            throw new ArgumentException($"Shape {shape} holds {shape.ElementCount} elements but {values.Length} values were given.");
        var t = new Tensor(DType.F32, shape);
        values.CopyTo(t.View.AsSpan<float>());
        return t;
    }

    /// <summary>Shape of the tensor.</summary>
    public TensorShape Shape => View.Shape;

    /// <summary>Element type.</summary>
    public DType DType => View.DType;

    /// <summary>Elements as a span.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged => View.AsSpan<T>();

    /// <summary>Frees the block; safe to call twice.</summary>
    public void Dispose() => Buffer.Dispose();

    public override string ToString() => View.ToString();
}
