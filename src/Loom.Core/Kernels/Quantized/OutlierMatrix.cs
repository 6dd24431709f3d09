// A quantized weight with SpQR-style outliers (Dettmers et al., 2023, "SpQR: A Sparse-Quantized
// Representation for Near-Lossless LLM Weight Compression", §4): the few weights whose quantization
// error most changes the layer output are kept in 16 bits beside the 4-bit blocks. Here they are a
// CSR list of corrections — W = dequant(Base) + C, C holding fp16(w_ij − dequant(Base)_ij) at the
// chosen (i, j) — so every product is the base's product plus the outliers' exact contribution:
//   Multiply:           y[r, i] += Σ_{(i,j)∈C} c_ij·x[r, j]
//   MultiplyTransposed: dx[r, j] += Σ_{(i,j)∈C} c_ij·dy[r, i]
// Storage per outlier: a 16-bit column and a 16-bit value (SpQR's own CSR stores the same two), plus
// one 32-bit row start per row. The compression side (Loom.Compression SpqrOutliers) chooses them.
using Loom.Core.Threading;

namespace Loom.Core.Kernels.Quantized;

/// <summary>A quantized weight plus a sparse list of fp16 outlier corrections (CSR).</summary>
public sealed class OutlierMatrix : IQuantizedWeight
{
    private readonly int[] _rowStart;    // (Rows + 1): outliers of row i are [_rowStart[i], _rowStart[i + 1])
    private readonly ushort[] _columns;  // (nnz)
    private readonly Half[] _values;     // (nnz)

    /// <summary>The quantized weight the outliers correct (owned).</summary>
    public IQuantizedWeight Base { get; }

    /// <inheritdoc/>
    public int Rows => Base.Rows;

    /// <inheritdoc/>
    public int Columns => Base.Columns;

    /// <summary>Number of outliers.</summary>
    public int Count => _values.Length;

    /// <summary>CSR row starts (Rows + 1).</summary>
    public ReadOnlySpan<int> RowStarts => _rowStart;

    /// <summary>CSR column of each outlier.</summary>
    public ReadOnlySpan<ushort> OutlierColumns => _columns;

    /// <summary>fp16 correction of each outlier.</summary>
    public ReadOnlySpan<Half> Values => _values;

    /// <inheritdoc/>
    public long ByteLength => Base.ByteLength + _rowStart.Length * 4L + _columns.Length * 2L + _values.Length * 2L;

    /// <summary>
    /// Wraps <paramref name="baseWeight"/> (owned from here on) with the outliers given in CSR form;
    /// columns must be ascending within a row and below Columns (at most 65,536).
    /// </summary>
    public OutlierMatrix(IQuantizedWeight baseWeight, ReadOnlySpan<int> rowStarts, ReadOnlySpan<ushort> columns, ReadOnlySpan<Half> values)
    {
        ArgumentNullException.ThrowIfNull(baseWeight);
        if (baseWeight.Columns > 65536) throw new ArgumentException($"Outlier columns are 16-bit; a weight with {baseWeight.Columns} inputs has too many.");
        if (rowStarts.Length != baseWeight.Rows + 1) throw new ArgumentException($"The outliers' row starts have {rowStarts.Length} entries; a weight with {baseWeight.Rows} rows needs {baseWeight.Rows + 1}.");
        if (columns.Length != values.Length) throw new ArgumentException($"{columns.Length} outlier columns but {values.Length} values; they must be as many.");
        if (rowStarts[0] != 0 || rowStarts[^1] != values.Length) throw new ArgumentException($"The outliers' row starts run from {rowStarts[0]} to {rowStarts[^1]}; they must run from 0 to the {values.Length} outliers.");
        for (int i = 0; i < baseWeight.Rows; i++)
        {
            if (rowStarts[i + 1] < rowStarts[i]) throw new ArgumentException($"Outlier row start {i + 1} ({rowStarts[i + 1]}) is below row start {i} ({rowStarts[i]}).");
            for (int k = rowStarts[i]; k < rowStarts[i + 1]; k++)
            {
                if (columns[k] >= baseWeight.Columns) throw new ArgumentException($"Outlier {k} (row {i}) has column {columns[k]}; the weight has {baseWeight.Columns}.");
                if (k > rowStarts[i] && columns[k] <= columns[k - 1]) throw new ArgumentException($"Outlier columns of row {i} are not ascending at entry {k}.");
                if (!Half.IsFinite(values[k])) throw new ArgumentException($"Outlier {k} (row {i}, column {columns[k]}) is {values[k]}; it must be finite.");
            }
        }
        Base = baseWeight;
        _rowStart = rowStarts.ToArray();
        _columns = columns.ToArray();
        _values = values.ToArray();
    }

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false, WorkerPool? pool = null)
    {
        Base.Multiply(x, y, rows, accumulate, pool);
        int n = Rows, k = Columns;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * k, k);
            var yr = y.Slice(r * n, n);
            for (int i = 0; i < n; i++)
            {
                int end = _rowStart[i + 1];
                if (end == _rowStart[i]) continue;
                float s = 0;
                for (int e = _rowStart[i]; e < end; e++) s += (float)_values[e] * xr[_columns[e]];
                yr[i] += s;
            }
        }
    }

    /// <inheritdoc/>
    public void MultiplyTransposed(ReadOnlySpan<float> dy, Span<float> dx, int rows, bool accumulate = false, WorkerPool? pool = null)
    {
        Base.MultiplyTransposed(dy, dx, rows, accumulate, pool);
        int n = Rows, k = Columns;
        for (int r = 0; r < rows; r++)
        {
            var dyr = dy.Slice(r * n, n);
            var dxr = dx.Slice(r * k, k);
            for (int i = 0; i < n; i++)
            {
                float g = dyr[i];
                for (int e = _rowStart[i]; e < _rowStart[i + 1]; e++) dxr[_columns[e]] += (float)_values[e] * g;
            }
        }
    }

    /// <inheritdoc/>
    public void DequantizeRows(int start, int count, Span<float> destination)
    {
        Base.DequantizeRows(start, count, destination);
        int k = Columns;
        for (int r = 0; r < count; r++)
            for (int e = _rowStart[start + r]; e < _rowStart[start + r + 1]; e++)
                destination[r * k + _columns[e]] += (float)_values[e];
    }

    public void Dispose() => Base.Dispose();
}
