// A tensor's dimensions, stored inline (no heap array) so shapes can be built in hot paths.
using System.Runtime.CompilerServices;
using System.Text;

namespace Loom.Core.Tensors;

/// <summary>Dimensions of a tensor, row-major, up to <see cref="MaxRank"/> axes.</summary>
public readonly struct TensorShape : IEquatable<TensorShape>
{
    /// <summary>Most axes a tensor may have: (batch, heads, time, time, ...) never needs more.</summary>
    public const int MaxRank = 6;

    [InlineArray(MaxRank)]
    private struct Dims { private int _element0; }

    private readonly Dims _dims;

    /// <summary>Number of axes.</summary>
    public int Rank { get; }

    /// <summary>Builds a shape from its dimensions; each must be non-negative.</summary>
    public TensorShape(params ReadOnlySpan<int> dims)
    {
        if (dims.Length > MaxRank)
            throw new ArgumentException($"A tensor has at most {MaxRank} axes; got {dims.Length}.", nameof(dims));
        Rank = dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0) throw new ArgumentException($"Dimension {i} is {dims[i]}; dimensions must be non-negative.", nameof(dims));
            _dims[i] = dims[i];
        }
    }

    /// <summary>Size of axis <paramref name="axis"/>; negative values count from the end.</summary>
    public int this[int axis]
    {
        get
        {
            int a = axis < 0 ? axis + Rank : axis;
            if ((uint)a >= (uint)Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this}.");
            return _dims[a];
        }
    }

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            for (int i = 0; i < Rank; i++) n *= _dims[i];
            return n;
        }
    }

    /// <summary>Row-major (C-contiguous) stride of axis <paramref name="axis"/>, in elements.</summary>
    public long ContiguousStride(int axis)
    {
        long s = 1;
        for (int i = Rank - 1; i > axis; i--) s *= _dims[i];
        return s;
    }

    /// <summary>The dimensions as a new array (for messages and serialisation, not hot paths).</summary>
    public int[] ToArray()
    {
        var a = new int[Rank];
        for (int i = 0; i < Rank; i++) a[i] = _dims[i];
        return a;
    }

    public bool Equals(TensorShape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++) if (_dims[i] != other._dims[i]) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is TensorShape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        for (int i = 0; i < Rank; i++) h.Add(_dims[i]);
        return h.ToHashCode();
    }

    public static bool operator ==(TensorShape left, TensorShape right) => left.Equals(right);
    public static bool operator !=(TensorShape left, TensorShape right) => !left.Equals(right);

    /// <summary>Formats as <c>[2, 3, 4]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < Rank; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(_dims[i]);
        }
        return sb.Append(']').ToString();
    }
}
