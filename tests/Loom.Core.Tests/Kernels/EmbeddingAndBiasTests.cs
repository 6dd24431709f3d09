using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels;

public class EmbeddingAndBiasTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(768)]
    public void GatherCopiesRowsAndScatterAddsRepeats(int dim)
    {
        int vocab = 11;
        int[] ids = [3, 0, 3, 10, 3, 7];
        var table = TestUtil.Random(1, vocab * dim);
        var output = new float[ids.Length * dim];
        Embedding.Forward(ids, table, dim, output);
        for (int i = 0; i < ids.Length; i++)
            Assert.Equal(table.AsSpan(ids[i] * dim, dim).ToArray(), output.AsSpan(i * dim, dim).ToArray());

        var dout = TestUtil.Random(2, ids.Length * dim);
        var dtable = new float[vocab * dim];
        Embedding.Backward(ids, dout, dtable, dim);
        var want = new double[vocab * dim];
        for (int i = 0; i < ids.Length; i++)
            for (int j = 0; j < dim; j++) want[ids[i] * dim + j] += dout[i * dim + j];
        TestUtil.Close(want, dtable, 1e-6, 1e-7);
    }

    [Fact]
    public void ScatterIsDeterministicAcrossThreadCounts()
    {
        int dim = 1000, n = 64;
        var ids = Enumerable.Range(0, n).Select(i => i % 3).ToArray();
        var dout = TestUtil.Random(3, n * dim);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            var dtable = new float[3 * dim];
            Embedding.Backward(ids, dout, dtable, dim, pool);
            if (first == null) first = dtable; else Assert.Equal(first, dtable);
        }
    }

    [Fact]
    public void OutOfRangeIdNamesThePosition()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Forward([1, 5], new float[4 * 2], 2, new float[4]));
        Assert.Contains("position 1 is 5", ex.Message);
    }

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void BiasForwardAndBackward(int cols)
    {
        int rows = 3;
        var x = TestUtil.Random(1, rows * cols);
        var b = TestUtil.Random(2, cols);
        var y = new float[x.Length];
        Bias.Forward(x, b, y);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) Assert.Equal(x[r * cols + j] + b[j], y[r * cols + j]);
        var db = new float[cols];
        Bias.Backward(x, db);
        var want = new double[cols];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) want[j] += x[r * cols + j];
        TestUtil.Close(want, db, 1e-6, 1e-6);
    }
}
