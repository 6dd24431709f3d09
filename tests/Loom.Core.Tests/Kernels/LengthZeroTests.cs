// Empty inputs: every kernel accepts zero elements (zero rows, an empty vector, a GEMM with a zero
// dimension) as a no-op that writes nothing out of bounds and throws nothing, as TensorPrimitives does.
using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class LengthZeroTests
{
    [Fact]
    public void ElementwiseKernelsAcceptEmptySpans()
    {
        Activations.GeluForward([], []);
        Activations.GeluBackward([], [], []);
        Activations.SiluForward([], []);
        Activations.SiluBackward([], [], []);
        Bias.Forward([], [1f, 2f], []);
        var db = new float[] { 5f, 6f };
        Bias.Backward([], db);
        Assert.Equal([5f, 6f], db);
        AdamW.Update([], [], [], [], new AdamWSettings(), 1);
    }

    [Fact]
    public void RowKernelsAcceptZeroRows()
    {
        LayerNorm.Forward([], [1f, 1f], [0f, 0f], [], [], [], cols: 2);
        RmsNorm.Forward([], [1f, 1f], [], [], cols: 2);
        Softmax.Forward([], [], cols: 3);
        Softmax.Backward([], [], [], cols: 3);
        Assert.Equal(0f, CrossEntropy.ForwardBackward([], [], vocab: 4, [], []), 0f);
        Embedding.Forward([], [1f, 2f, 3f, 4f], dim: 2, []);
    }

    [Theory]
    [InlineData(0, 3, 4)]
    [InlineData(3, 0, 4)]
    [InlineData(3, 4, 0)]
    public void GemmWithAZeroDimension(int m, int n, int k)
    {
        var a = TestUtil.Random(1, m * k);
        var b = TestUtil.Random(2, k * n);
        var c = Enumerable.Repeat(7f, m * n).ToArray();
        Gemm.Sgemm(Transpose.No, Transpose.No, m, n, k, 1f, a, Math.Max(1, k), b, Math.Max(1, n), 0.5f, c, Math.Max(1, n));
        // C = αA·B + βC with an empty sum leaves βC (BLAS semantics).
        Assert.All(c, v => Assert.Equal(3.5f, v));
    }

    [Fact]
    public void MatVecWithEmptyVectors()
    {
        var y = new float[] { 1f, 2f };
        MatVec.RowsDot([], [], y);                 // (2, 0) weight: y = 0
        Assert.Equal([0f, 0f], y);
        MatVec.ColumnsAxpy([], [], [3f, 4f], y);    // (0, 2) weight: y = b
        Assert.Equal([3f, 4f], y);
        MatVec.RowsDot([], [1f, 2f], []);
    }
}
