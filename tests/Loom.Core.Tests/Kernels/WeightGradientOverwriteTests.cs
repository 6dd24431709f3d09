// Linear and Conv1D backward with accumulateWeight: false (the first weight gradient of a step when
// ParameterSet defers zeroing): dW must be written whole, its old contents (NaN here) never read, and
// equal the accumulating path's result on a zeroed dW (that path is checked by finite differences in
// GradientCheckTests and LinearTests). dx and db are unaffected.
using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class WeightGradientOverwriteTests
{
    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(17, 9, 33, false)]
    [InlineData(64, 48, 80, true)]
    [InlineData(130, 67, 35, true)]
    public void OverwritingTheWeightGradientEqualsAccumulatingIntoZeros(int m, int nin, int nout, bool linear)
    {
        var x = TestUtil.Random(1, m * nin);
        var w = TestUtil.Random(2, nin * nout);
        var dy = TestUtil.Random(3, m * nout);
        float[] dxAdd = new float[m * nin], dwAdd = new float[nin * nout], dbAdd = new float[nout];
        float[] dxSet = new float[m * nin], dwSet = new float[nin * nout], dbSet = new float[nout];
        Array.Fill(dwSet, float.NaN);
        if (linear)
        {
            Linear.Backward(dy, x, w, dxAdd, dwAdd, dbAdd, m, nin, nout);
            Linear.Backward(dy, x, w, dxSet, dwSet, dbSet, m, nin, nout, accumulateWeight: false);
        }
        else
        {
            Conv1D.Backward(dy, x, w, dxAdd, dwAdd, dbAdd, m, nin, nout);
            Conv1D.Backward(dy, x, w, dxSet, dwSet, dbSet, m, nin, nout, accumulateWeight: false);
        }
        Assert.Equal(dwAdd, dwSet);
        Assert.Equal(dxAdd, dxSet);
        Assert.Equal(dbAdd, dbSet);
    }
}
