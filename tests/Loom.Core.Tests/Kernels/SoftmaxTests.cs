using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class SoftmaxTests
{
    // Reference: softmax over the visible keys of each row, hidden keys 0, all-hidden row 0.
    private static double[] Reference(double[] x, int cols, Func<int, int, bool> visible)
    {
        int rows = x.Length / cols;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) if (visible(r, j)) max = Math.Max(max, x[r * cols + j]);
            if (double.IsNegativeInfinity(max)) continue;
            double sum = 0;
            for (int j = 0; j < cols; j++) if (visible(r, j)) sum += Math.Exp(x[r * cols + j] - max);
            for (int j = 0; j < cols; j++) y[r * cols + j] = visible(r, j) ? Math.Exp(x[r * cols + j] - max) / sum : 0;
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void DenseMatchesReference(int cols)
    {
        int rows = cols > 1000 ? 2 : 3;
        var x = TestUtil.Random(cols, rows * cols, 5f);
        var y = new float[x.Length];
        Softmax.Forward(x, y, cols);
        TestUtil.Close(Reference(TestUtil.ToDouble(x), cols, (_, _) => true), y, 1e-5, 1e-7);
        Softmax.Forward(x, x, cols); // in place
        Assert.Equal(y, x);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    public void CausalMatchesReference(int t)
    {
        int groups = 3;
        var x = TestUtil.Random(t, groups * t * t, 3f);
        var y = new float[x.Length];
        Softmax.Forward(x, y, t, SoftmaxMask.CausalSquare);
        TestUtil.Close(Reference(TestUtil.ToDouble(x), t, (r, j) => j <= r % t), y, 1e-5, 1e-7);
    }

    [Theory]
    [InlineData(1, 0, true)]
    [InlineData(17, 0, true)]
    [InlineData(40, 0, true)]
    [InlineData(100, 0, true)]
    [InlineData(70, 9, true)]
    [InlineData(100, 0, false)]
    [InlineData(70, 9, false)]
    public void CausalRowsEqualTheScalarReferenceBitForBit(int t, int queryRows, bool prefetch)
    {
        // Every row length 1..t (each tail of the 16-lane chunks): softmax = exp(x − max)·(1/Σ) with
        // Σ in VectorOps' exp order (lane j sums the visible keys i ≡ j (mod 16), the last chunk padded
        // with exp(−∞) = 0), hidden keys exactly 0 — the same bits on every path; also in place. The
        // AVX-512 rows prefetch the next row and write the hidden keys' zeros themselves, or (switch
        // off) do neither: the same bits either way. Elsewhere the switch is ignored.
        int q = queryRows == 0 ? t : queryRows, groups = 2, rows = groups * q;
        var x = TestUtil.Random(t + 3, rows * t, 6f);
        var y = TestUtil.Random(t + 4, rows * t);   // stale values where keys are hidden
        var mask = new SoftmaxMask { Causal = true, QueryRows = queryRows };
        Softmax.PrefetchNextRow = prefetch;
        try
        {
            Softmax.Forward(x, y, t, mask);
        }
        finally
        {
            Softmax.PrefetchNextRow = true;
        }
        for (int r = 0; r < rows; r++)
        {
            int visible = r % q + (t - q) + 1;
            var row = x.AsSpan(r * t, t).ToArray();
            float max = row.Take(visible).Max();
            var lanes = new float[16];
            for (int i = 0; i < visible; i++) lanes[i % 16] += FastMath.Exp(row[i] - max);
            float sum = lanes[0];
            for (int j = 1; j < 16; j++) sum += lanes[j];
            for (int j = 0; j < t; j++)
            {
                float want = j < visible ? FastMath.Exp(row[j] - max) * (1f / sum) : 0f;
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(y[r * t + j]),
                    $"t={t} row {r} col {j}: reference {want:R}, got {y[r * t + j]:R}");
            }
        }
        var inPlace = (float[])x.Clone();
        Softmax.Forward(inPlace, inPlace, t, mask);
        Assert.Equal(y, inPlace);
    }

    [Fact]
    public void CausalWithCachedKeysSeesThePrefix()
    {
        // 2 new queries attending over 5 keys (3 cached): query q sees keys j ≤ q + 3.
        var x = TestUtil.Random(9, 2 * 5, 2f);
        var y = new float[x.Length];
        Softmax.Forward(x, y, 5, new SoftmaxMask { Causal = true, QueryRows = 2 });
        TestUtil.Close(Reference(TestUtil.ToDouble(x), 5, (r, j) => j <= r + 3), y, 1e-5, 1e-7);
    }

    [Fact]
    public void PaddingMaskHidesKeysAndEmptyRowsAreZero()
    {
        int b = 2, h = 2, t = 4;
        // batch 0: last key is padding; batch 1: only key 0 is real.
        byte[] keep = [1, 1, 1, 0, 1, 0, 0, 0];
        var x = TestUtil.Random(11, b * h * t * t, 2f);
        var y = new float[x.Length];
        Softmax.Forward(x, y, t, new SoftmaxMask { Causal = true, KeyPadding = keep, RowsPerMaskRow = h * t });
        TestUtil.Close(Reference(TestUtil.ToDouble(x), t, (r, j) => j <= r % t && keep[r / (h * t) * t + j] != 0), y, 1e-5, 1e-7);

        byte[] none = [0, 0, 0, 0];
        Softmax.Forward(x.AsSpan(0, t * t), y.AsSpan(0, t * t), t, new SoftmaxMask { KeyPadding = none, RowsPerMaskRow = t });
        Assert.All(y.Take(t * t), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(53)]
    [InlineData(64)]
    [InlineData(200)]
    public void LongPaddingMasksMatchTheReferenceAndTheDenseRowOfTheKeptKeys(int t)
    {
        // Rows long enough for the 16-key chunks: a kept prefix then padding (whole chunks copied or
        // filled), flags other than 1, isolated holes inside a chunk, and a row with nothing kept.
        int rows = 4;
        var keep = new byte[rows * t];
        for (int j = 0; j < t; j++)
        {
            keep[j] = (byte)(j < t - 21 ? 1 : 0);
            keep[t + j] = (byte)(j % 7 == 3 ? 0 : 2 + j % 5);
            keep[2 * t + j] = (byte)(j >= 17 && j < 40 ? 1 : 0);
        }
        var x = TestUtil.Random(t + 17, rows * t, 4f);
        var y = new float[x.Length];
        Softmax.Forward(x, y, t, new SoftmaxMask { KeyPadding = keep, RowsPerMaskRow = 1 });
        TestUtil.Close(Reference(TestUtil.ToDouble(x), t, (r, j) => keep[r * t + j] != 0), y, 1e-5, 1e-7);
        Assert.All(y.AsSpan(3 * t, t).ToArray(), v => Assert.Equal(0f, v));
        // The kept prefix of row 0 gets exactly the numbers of a dense softmax over it.
        int kept = t - 21;
        var dense = new float[kept];
        Softmax.Forward(x.AsSpan(0, kept), dense, kept);
        for (int j = 0; j < kept; j++) Assert.Equal(BitConverter.SingleToInt32Bits(dense[j]), BitConverter.SingleToInt32Bits(y[j]));
    }

    [Fact]
    public void PackedDocumentsSeeOnlyTheirOwnEarlierKeys()
    {
        // B = 2 rows, 3 heads, T = 7; row 0 packs documents of 3 and 4 tokens, row 1 of 2, 2 and 3 (block-diagonal causal).
        int b = 2, h = 3, t = 7;
        int[] first = [0, 0, 0, 3, 3, 3, 3, 0, 0, 2, 2, 4, 4, 4];
        var x = TestUtil.Random(13, b * h * t * t, 3f);
        var y = new float[x.Length];
        Softmax.Forward(x, y, t, SoftmaxMask.CausalDocuments(first, h));
        TestUtil.Close(Reference(TestUtil.ToDouble(x), t, (r, j) => j <= r % t && j >= first[r / (h * t) * t + r % t]), y, 1e-5, 1e-7);
        // With a key-padding mask as well (row 1's last key hidden).
        byte[] keep = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
        Softmax.Forward(x, y, t, new SoftmaxMask { Causal = true, FirstVisibleKey = first, SegmentHeads = h, KeyPadding = keep, RowsPerMaskRow = h * t });
        TestUtil.Close(Reference(TestUtil.ToDouble(x), t, (r, j) => j <= r % t && j >= first[r / (h * t) * t + r % t] && keep[r / (h * t) * t + j] != 0), y, 1e-5, 1e-7);
        int[] bad = (int[])first.Clone();
        bad[2] = 3;   // query 2 cannot start its document after itself
        Assert.Throws<ArgumentException>(() => Softmax.Forward(x, y, t, SoftmaxMask.CausalDocuments(bad, h)));
    }

    [Fact]
    public void LargeLogitsDoNotOverflow()
    {
        var x = new float[] { 1e30f, 1e30f, -1e30f, 0f, 88f, 89f, 100f, 1000f };
        var y = new float[x.Length];
        Softmax.Forward(x, y, 8);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(0.5f, y[0], 6);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(19)]
    public void BackwardMatchesFiniteDifferences(int cols)
    {
        int rows = 3;
        var x = TestUtil.Random(cols, rows * cols, 2f);
        var r = TestUtil.Random(cols + 1, rows * cols);
        var y = new float[x.Length];
        Softmax.Forward(x, y, cols, SoftmaxMask.CausalSquare with { QueryRows = 1 });
        var dx = new float[x.Length];
        Softmax.Backward(y, r, dx, cols);
        var want = TestUtil.FiniteDifference(v => Reference(v, cols, (_, j) => true), TestUtil.ToDouble(x), TestUtil.ToDouble(r));
        TestUtil.Close(want, dx, 1e-4, 1e-6);
    }

    [Fact]
    public void RejectsRaggedInput()
    {
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Forward(new float[10], new float[10], 3));
        Assert.Contains("not a whole number of rows of 3", ex.Message);
    }
}
