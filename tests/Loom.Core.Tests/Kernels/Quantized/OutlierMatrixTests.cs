// OutlierMatrix (SpQR's fp16 outliers beside quantized blocks): its products equal the naive double
// product of its decoded weight (the base's dequantization plus the CSR corrections), for a block
// base and a double-quantized NF4 base, and malformed CSR is refused by name.
using Loom.Core.Kernels.Quantized;

namespace Loom.Core.Tests.Kernels.Quantized;

public class OutlierMatrixTests
{
    private static OutlierMatrix Make(IQuantizedWeight baseWeight, int seed)
    {
        var rng = new Random(seed);
        var starts = new int[baseWeight.Rows + 1];
        var cols = new List<ushort>();
        var vals = new List<Half>();
        for (int i = 0; i < baseWeight.Rows; i++)
        {
            for (int j = 0; j < baseWeight.Columns; j++)
                if (rng.NextDouble() < 0.02) { cols.Add((ushort)j); vals.Add((Half)(rng.NextDouble() * 4 - 2)); }
            starts[i + 1] = cols.Count;
        }
        return new OutlierMatrix(baseWeight, starts, cols.ToArray(), vals.ToArray());
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 12)]
    [InlineData(true, 2)]
    [InlineData(true, 9)]
    public void ProductsEqualTheDecodedWeightsNaiveProduct(bool doubleQuant, int rows)
    {
        const int n = 24, k = 128;
        var rng = new Random(3);
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() - 0.5);
        using var m = Make(doubleQuant ? Nf4DoubleQuantMatrix.Quantize(w, n, k) : QuantizedMatrix.Quantize(QuantFormat.Q4_0, w, n, k), 5);
        Assert.True(m.Count > 0);
        var deq = new float[n * k];
        m.Base.DequantizeRows(0, n, deq);
        var full = new float[n * k];
        m.DequantizeRows(0, n, full);
        for (int i = 0; i < n; i++)
            for (int e = m.RowStarts[i]; e < m.RowStarts[i + 1]; e++)
                deq[i * k + m.OutlierColumns[e]] += (float)m.Values[e];
        Assert.Equal(deq, full);

        var x = new float[rows * k];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[rows * n];
        m.Multiply(x, y, rows);
        var dx = new float[rows * k];
        m.MultiplyTransposed(y, dx, rows);
        // 8-bit activations (q4_0's dot product) round x to 1/254 of each 32-block's range.
        double tol = doubleQuant || rows > QuantizedMatrix.DotRowLimit ? 1e-5 : 0.01;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < n; o++)
            {
                double s = 0, mag = 0;
                for (int j = 0; j < k; j++) { s += (double)x[r * k + j] * full[o * k + j]; mag += Math.Abs((double)x[r * k + j] * full[o * k + j]); }
                Assert.True(Math.Abs(y[r * n + o] - s) <= tol * mag + 1e-6, $"y[{r},{o}] = {y[r * n + o]}, naive {s}");
            }
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++)
            {
                double s = 0, mag = 0;
                for (int o = 0; o < n; o++) { s += (double)y[r * n + o] * full[o * k + j]; mag += Math.Abs((double)y[r * n + o] * full[o * k + j]); }
                Assert.True(Math.Abs(dx[r * k + j] - s) <= 1e-5 * mag + 1e-6, $"dx[{r},{j}] = {dx[r * k + j]}, naive {s}");
            }
    }

    [Fact]
    public void MalformedOutliersAreRefusedByName()
    {
        using var b = QuantizedMatrix.Quantize(QuantFormat.Q8_0, new float[2 * 32], 2, 32);
        var e = Assert.Throws<ArgumentException>(() => new OutlierMatrix(b, [0, 2, 2], [5, 3], [(Half)1, (Half)1]));
        Assert.Contains("not ascending", e.Message);
        e = Assert.Throws<ArgumentException>(() => new OutlierMatrix(b, [0, 1, 1], [40], [(Half)1]));
        Assert.Contains("column 40", e.Message);
        e = Assert.Throws<ArgumentException>(() => new OutlierMatrix(b, [0, 1], [1], [(Half)1]));
        Assert.Contains("row starts", e.Message);
    }
}
