// Quantized products against dequantize-then-multiply in double (the reference: BlockQuantizer's
// decoding, itself checked against gguf-py in BlockQuantizerTests). Integer formats quantize the
// activations to 8 bits, so their bound is the activation rounding: |Σ w·(x − x̂)| ≤ Σ_b (d_b/2)·Σ_{k∈b}|w_k|
// with d_b the activation block's scale — computed per row here, plus float summation slack.
// Every SIMD path this CPU has is run, and each must agree with the scalar path.
using Loom.Core.Kernels.Quantized;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels.Quantized;

public class QuantizedMatrixTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var d = new TheoryData<string, int, int>();
        foreach (var f in new[] { "q8_0", "q4_0", "q4_k", "q6_k", "nf4", "f16" })
            foreach (var path in Enum.GetValues<QuantKernelPath>())
                d.Add(f, (int)path, f switch { "q8_0" or "q4_0" => 96 /* 3 blocks: a 512-bit pair and a tail */, "f16" => 100 /* 64 + 32 + 4: every loop and the tail */, _ => 512 });
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void DotPathsMatchDequantizedProductWithinActivationRounding(string name, int pathIndex, int k)
    {
        var path = (QuantKernelPath)pathIndex;
        if (!QuantKernelPaths.IsSupported(path)) return;   // this CPU (or DOTNET_Enable*) lacks it; the scalar case still runs
        var format = QuantFormatInfo.Parse(name);
        const int outputs = 37;
        var w = TestUtil.Random(1, outputs * k, 0.05f);
        w[5] = 0.4f; w[k + 3] = -0.3f;                          // outliers set the block scales
        using var m = QuantizedMatrix.Quantize(format, w, outputs, k);
        m.Path = path;
        var wq = new float[outputs * k];
        m.DequantizeRows(0, outputs, wq);
        for (int rows = 1; rows <= 3; rows++)
        {
            var x = TestUtil.Random(10 + rows, rows * k, 2f);
            var y = new float[rows * outputs];
            m.Multiply(x, y, rows, pool: new WorkerPool(2));
            int block = format switch { QuantFormat.Q4_K or QuantFormat.Q6_K => 256, QuantFormat.F16 => 4 /* k = 100 */, _ => 32 };
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outputs; o++)
                {
                    double exact = 0, bound = 0, mag = 0;
                    for (int b = 0; b < k / block; b++)
                    {
                        double amax = 0, wsum = 0;
                        for (int j = b * block; j < (b + 1) * block; j++)
                        {
                            double xv = x[r * k + j], wv = wq[o * k + j];
                            exact += wv * xv;
                            mag += Math.Abs(wv * xv);
                            amax = Math.Max(amax, Math.Abs(xv));
                            wsum += Math.Abs(wv);
                        }
                        if (QuantFormatInfo.UsesQ8Activations(format)) bound += amax / 127 / 2 * wsum;
                    }
                    double allowed = bound * 1.001 + 1e-5 * mag + 1e-6;
                    Assert.True(Math.Abs(y[r * outputs + o] - exact) <= allowed,
                        $"{name} {path} rows {rows} r {r} o {o}: {y[r * outputs + o]:R} vs dequantized {exact:R} (allowed {allowed:R})");
                }
        }
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("q4_k")]
    [InlineData("q6_k")]
    [InlineData("nf4")]
    [InlineData("f16")]
    public void SimdPathsAgreeWithScalar(string name)
    {
        var format = QuantFormatInfo.Parse(name);
        const int outputs = 19, k = 768;
        var w = TestUtil.Random(3, outputs * k, 0.05f);
        var x = TestUtil.Random(4, k, 1f);
        using var m = QuantizedMatrix.Quantize(format, w, outputs, k);
        m.Path = QuantKernelPath.Scalar;
        var expected = new float[outputs];
        m.Multiply(x, expected, 1);
        foreach (var path in new[] { QuantKernelPath.Avx2, QuantKernelPath.Vnni, QuantKernelPath.Avx512 })
        {
            if (!QuantKernelPaths.IsSupported(path)) continue;
            m.Path = path;
            var y = new float[outputs];
            m.Multiply(x, y, 1);
            TestUtil.Close(TestUtil.ToDouble(expected), y, 1e-5, 1e-5, $"{name} {path}");
        }
    }

    [Theory]
    [InlineData("q8_0", 9)]
    [InlineData("q4_k", 13)]
    [InlineData("nf4", 40)]
    public void PanelPathsEqualDequantizedGemm(string name, int rows)
    {
        // More rows than DotRowLimit: panels dequantized then the float GEMM, forward and transposed.
        var format = QuantFormatInfo.Parse(name);
        const int outputs = 300, k = 256;   // 300 crosses the 128-row panel boundary twice
        var w = TestUtil.Random(5, outputs * k, 0.05f);
        using var m = QuantizedMatrix.Quantize(format, w, outputs, k);
        var wq = new float[outputs * k];
        m.DequantizeRows(0, outputs, wq);
        var x = TestUtil.Random(6, rows * k);
        var y = TestUtil.Random(7, rows * outputs);
        var y0 = (float[])y.Clone();
        m.Multiply(x, y, rows, accumulate: true);
        var expected = new double[rows * outputs];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double s = y0[r * outputs + o];
                for (int j = 0; j < k; j++) s += (double)x[r * k + j] * wq[o * k + j];
                expected[r * outputs + o] = s;
            }
        TestUtil.Close(expected, y, 1e-4, 1e-4, name + " forward");

        var dy = TestUtil.Random(8, rows * outputs);
        var dx = new float[rows * k];
        m.MultiplyTransposed(dy, dx, rows);
        var edx = new double[rows * k];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int o = 0; o < outputs; o++) s += (double)dy[r * outputs + o] * wq[o * k + j];
                edx[r * k + j] = s;
            }
        TestUtil.Close(edx, dx, 1e-4, 1e-4, name + " transposed");
    }

    [Theory]
    [InlineData(QuantKernelPath.Scalar)]
    [InlineData(QuantKernelPath.Avx2)]
    [InlineData(QuantKernelPath.Avx512)]
    public void F16WidensEveryHalfExactly(QuantKernelPath path)
    {
        // Every one of the 65,536 half bit patterns, widened in registers, against .NET's (float)Half: each finite
        // half sits in a row of 64 with a one-hot activation selecting it (exact: the others multiply 0); ±inf and
        // the NaNs each get a row of their own, as 0·inf would be NaN.
        if (!QuantKernelPaths.IsSupported(path)) return;
        var finite = new List<ushort>();
        var special = new List<ushort>();
        for (int h = 0; h < 65536; h++) ((h & 0x7C00) == 0x7C00 ? special : finite).Add((ushort)h);
        const int k = 64;
        int rows = finite.Count / k;   // 63,488 = 992 · 64
        Assert.Equal(0, finite.Count % k);
        var halves = new ushort[rows * k];
        finite.CopyTo(halves);
        using var m = QuantizedMatrix.FromBlocks(QuantFormat.F16, rows, k, System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()));
        m.Path = path;
        var x = new float[k];
        var y = new float[rows];
        for (int j = 0; j < k; j++)
        {
            Array.Clear(x);
            x[j] = 1;
            m.Multiply(x, y, 1);
            for (int r = 0; r < rows; r++)
            {
                float want = (float)BitConverter.UInt16BitsToHalf(halves[r * k + j]);
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(y[r]) || (want == 0 && y[r] == 0),
                    $"{path} half 0x{halves[r * k + j]:X4}: {y[r]:R}, (float)Half {want:R}");
            }
        }
        var one = new ushort[special.Count * k];
        for (int i = 0; i < special.Count; i++) one[i * k] = special[i];
        using var s = QuantizedMatrix.FromBlocks(QuantFormat.F16, special.Count, k, System.Runtime.InteropServices.MemoryMarshal.AsBytes(one.AsSpan()));
        s.Path = path;
        Array.Clear(x);
        x[0] = 1;
        var ys = new float[special.Count];
        s.Multiply(x, ys, 1);
        for (int i = 0; i < special.Count; i++)
        {
            float want = (float)BitConverter.UInt16BitsToHalf(special[i]);
            Assert.True(float.IsNaN(want) ? float.IsNaN(ys[i]) : want == ys[i], $"{path} half 0x{special[i]:X4}: {ys[i]}, (float)Half {want}");
        }
    }

    // Decode products hand their rows out in chunks that threads take from each other (Ranges.RunBalanced): which
    // thread makes a row must not change a bit of it — against one thread, and against fixed shares. 1,000 rows
    // of 768: 62 full Q4_0 groups and 8 rows after them, several chunks per thread.
    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("f16")]
    [InlineData("q6_k")]
    public void BalancedSharesGiveTheSameBitsAsOneThread(string name)
    {
        const int outputs = 1000, k = 768;
        var format = QuantFormatInfo.Parse(name);
        using var m = QuantizedMatrix.Quantize(format, TestUtil.Random(3, outputs * k, 0.05f), outputs, k);
        var x = TestUtil.Random(4, k, 1f);
        var one = new float[outputs];
        using (var single = new WorkerPool(1)) m.Multiply(x, one, 1, pool: single);
        using var pool = new WorkerPool(2);
        foreach (bool balanced in new[] { true, false, true })
        {
            pool.Balanced = balanced;
            for (int rep = 0; rep < 10; rep++)
            {
                var y = new float[outputs];
                m.Multiply(x, y, 1, pool: pool);
                Assert.Equal(one, y);
            }
        }
    }

    // Block scales are read through a table of all 65,536 halves (QuantizedDot.Half): each entry must be .NET's own
    // conversion, bit for bit (NaNs: any NaN).
    [Fact]
    public unsafe void BlockScaleTableHoldsEveryHalfExactly()
    {
        for (int h = 0; h < 65536; h++)
        {
            ushort bits = (ushort)h;
            float got = QuantizedDot.Half((byte*)&bits), want = (float)BitConverter.UInt16BitsToHalf(bits);
            Assert.True(float.IsNaN(want) ? float.IsNaN(got) : BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got), $"half 0x{h:X4}: {got:R}, (float)Half {want:R}");
        }
    }

    [Fact]
    public void WrongSizesAreRefusedWithTheNumbers()
    {
        var e = Assert.Throws<ArgumentException>(() => QuantizedMatrix.FromBlocks(QuantFormat.Q4_0, 2, 64, new byte[10]));
        Assert.Contains("72 bytes", e.Message);
        e = Assert.Throws<ArgumentException>(() => QuantizedMatrix.Quantize(QuantFormat.Q8_0, new float[100], 2, 64));
        Assert.Contains("needs 128", e.Message);
    }
}
