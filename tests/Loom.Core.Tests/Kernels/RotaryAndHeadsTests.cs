using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class RotaryAndHeadsTests
{
    [Fact]
    public void RotationMatchesTheFormulaPreservesNormsAndInverts()
    {
        int T = 5, H = 2, d = 8, half = d / 2;
        var cos = new float[T * half]; var sin = new float[T * half];
        Rotary.Tables(T, d, 10000f, default, 2048, cos, sin);
        var x = TestUtil.Random(1, 2 * T * H * d);
        var y = (float[])x.Clone();
        Rotary.Apply(y, T, H, d, cos, sin);
        for (int r = 0; r < 2 * T; r++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < half; i++)
                {
                    int t = r % T, o = (r * H + h) * d;
                    double ang = t / Math.Pow(10000, 2.0 * i / d);
                    double a = x[o + i], b = x[o + i + half];
                    Assert.Equal(a * Math.Cos(ang) - b * Math.Sin(ang), y[o + i], 4);
                    Assert.Equal(b * Math.Cos(ang) + a * Math.Sin(ang), y[o + i + half], 4);
                }
        Rotary.Apply(y, T, H, d, cos, sin, inverse: true);
        TestUtil.Close(x, y, 1e-5, 1e-6);
    }

    [Fact]
    public void PositionIdsRotateEachRowAsItsOwnPositionAndInvert()
    {
        // Rows with explicit positions (packed documents restarting at 0) equal the offset form row by row.
        int heads = 2, d = 8, half = d / 2, T = 6;
        var cos = new float[T * half]; var sin = new float[T * half];
        Rotary.Tables(T, d, 10000f, default, T, cos, sin);
        int[] positions = [0, 1, 2, 0, 1, 0];
        var x = TestUtil.Random(21, positions.Length * heads * d, 1f);
        var y = (float[])x.Clone();
        Rotary.Apply(y, heads, d, positions, cos, sin);
        for (int r = 0; r < positions.Length; r++)
        {
            var row = x.AsSpan(r * heads * d, heads * d).ToArray();
            Rotary.Apply(row, 1, heads, d, cos, sin, positionOffset: positions[r]);
            Assert.Equal(row, y.AsSpan(r * heads * d, heads * d).ToArray());
        }
        Rotary.Apply(y, heads, d, positions, cos, sin, inverse: true);
        TestUtil.Close(TestUtil.ToDouble(x), y, 1e-6, 1e-6);
        Assert.Throws<ArgumentException>(() => Rotary.Apply(y, heads, d, [0, 1, 2, 0, 1, 6], cos, sin));
    }

    [Fact]
    public void LinearScalingDividesPositionsAndDynamicNtkOnlyActsPastTheTrainedLength()
    {
        int d = 8, half = d / 2;
        var c1 = new float[8 * half]; var s1 = new float[8 * half]; var c2 = new float[8 * half]; var s2 = new float[8 * half];
        Rotary.Tables(8, d, 10000f, new RopeScaling("linear", 2f), 2048, c1, s1);
        Rotary.Tables(4, d, 10000f, default, 2048, c2, s2);
        for (int i = 0; i < half; i++) Assert.Equal(c2[1 * half + i], c1[2 * half + i], 5); // position 2 at factor 2 = position 1
        var c3 = new float[8 * half]; var s3 = new float[8 * half];
        Rotary.Tables(8, d, 10000f, new RopeScaling("dynamic", 2f), 16, c3, s3);
        Rotary.Tables(8, d, 10000f, default, 16, c2.Length >= 8 * half ? c2 : new float[8 * half], s2.Length >= 8 * half ? s2 : new float[8 * half]);
        var plain = new float[8 * half]; var plainS = new float[8 * half];
        Rotary.Tables(8, d, 10000f, default, 16, plain, plainS);
        Assert.Equal(plain, c3); // 8 ≤ 16: unchanged
        Rotary.Tables(8, d, 10000f, new RopeScaling("dynamic", 2f), 4, c3, s3);
        Assert.NotEqual(plain, c3); // past the trained length the base grows
        Assert.Throws<NotSupportedException>(() => Rotary.Tables(2, d, 1f, new RopeScaling("yarn", 2f), 4, c3, s3));
    }

    // A decode step's rows of the tables (TablesAt) are the whole window's tables (Tables, checked against
    // the formula above) at those positions, bit for bit, for every scaling — dynamic NTK past the trained
    // length included, where the window's length sets the base.
    [Theory]
    [InlineData("none", 1f, 2048)]
    [InlineData("linear", 2f, 2048)]
    [InlineData("dynamic", 2f, 16)]
    [InlineData("dynamic", 3f, 300)]
    public void TablesAtGivesTheWindowsRowsBitForBit(string type, float factor, int trained)
    {
        int d = 64, half = d / 2, window = 37;
        var scaling = new RopeScaling(type, factor);
        var cos = new float[window * half]; var sin = new float[window * half];
        Rotary.Tables(window, d, 10000f, scaling, trained, cos, sin);
        int[] positions = [36, 0, 5, 36, 17];
        var c = new float[positions.Length * half]; var s = new float[positions.Length * half];
        Rotary.TablesAt(positions, window, d, 10000f, scaling, trained, c, s);
        for (int k = 0; k < positions.Length; k++)
        {
            Assert.Equal(cos.AsSpan(positions[k] * half, half).ToArray(), c.AsSpan(k * half, half).ToArray());
            Assert.Equal(sin.AsSpan(positions[k] * half, half).ToArray(), s.AsSpan(k * half, half).ToArray());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Rotary.TablesAt([window], window, d, 10000f, scaling, trained, c, s));
    }

    [Fact]
    public void GroupedHeadsExpandAndTheirGradientsSum()
    {
        int B = 2, T = 3, kv = 2, nh = 4, hd = 5;
        var rows = TestUtil.Random(1, B * T * kv * hd);
        var heads = new float[B * nh * T * hd];
        Attention.ToHeads(rows, heads, B, T, kv, nh, hd);
        // query head h reads kv head h / 2
        for (int b = 0; b < B; b++) for (int h = 0; h < nh; h++) for (int t = 0; t < T; t++) for (int i = 0; i < hd; i++)
            Assert.Equal(rows[((b * T + t) * kv + h / 2) * hd + i], heads[((b * nh + h) * T + t) * hd + i]);
        var back = new float[rows.Length];
        Attention.FromHeads(heads, back, B, T, kv, nh, hd);
        TestUtil.Close(rows.Select(v => 2.0 * v).ToArray(), back, 1e-6, 1e-7); // each kv head was used twice
    }
}
