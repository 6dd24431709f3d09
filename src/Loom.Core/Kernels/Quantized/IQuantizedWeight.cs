// What a quantized projection needs from its weight, whatever the storage: ggml-style blocks
// (QuantizedMatrix), NF4 with double-quantized scales (Nf4DoubleQuantMatrix), or either with SpQR
// fp16 outliers beside the blocks (OutlierMatrix). The weight is (out × in), rows being output
// features; products never need the float matrix (few rows use dot products on the stored form).
using Loom.Core.Threading;

namespace Loom.Core.Kernels.Quantized;

/// <summary>An (out × in) weight held in a compressed form, with the products a projection needs.</summary>
public interface IQuantizedWeight : IDisposable
{
    /// <summary>Output features (rows of W).</summary>
    int Rows { get; }

    /// <summary>Input features (columns of W).</summary>
    int Columns { get; }

    /// <summary>Bytes this weight holds: blocks, scales and outliers.</summary>
    long ByteLength { get; }

    /// <summary>y (rows × Rows) = x (rows × Columns)·Wᵀ, added to y when <paramref name="accumulate"/>.</summary>
    void Multiply(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false, WorkerPool? pool = null);

    /// <summary>dx (rows × Columns) = dy (rows × Rows)·W, added to dx when <paramref name="accumulate"/>.</summary>
    void MultiplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, int rows, bool accumulate = false, WorkerPool? pool = null);

    /// <summary>Decodes rows [<paramref name="start"/>, start + count) into <paramref name="destination"/> (count × Columns).</summary>
    void DequantizeRows(int start, int count, Span<float> destination);
}
