// After warm-up, no kernel call allocates managed memory on the calling thread.
using Loom.Core.Kernels;
using Loom.Core.Tensors;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels;

public class AllocationTests
{
    [Fact]
    public void KernelsAllocateNothingAfterWarmUp()
    {
        using var pool = new WorkerPool(2);
        int m = 64, k = 96, n = 80, rows = 64, cols = 256;
        var x = TestUtil.Random(1, m * k); var w = TestUtil.Random(2, n * k); var b = TestUtil.Random(3, n);
        var y = new float[m * n]; var dx = new float[m * k]; var dw = new float[n * k]; var db = new float[n];
        var a = TestUtil.Random(4, rows * cols); var o = new float[rows * cols];
        var g = TestUtil.Random(5, cols); var bb = TestUtil.Random(6, cols);
        var mean = new float[rows]; var rstd = new float[rows];
        int[] ids = Enumerable.Range(0, rows).Select(i => i % 10).ToArray();
        var table = TestUtil.Random(7, 10 * cols);
        var losses = new float[rows];
        var mom = new float[rows * cols]; var vel = new float[rows * cols];
        var bf = new BFloat16[rows * cols];

        void All()
        {
            Linear.Forward(x, w, b, y, m, k, n, pool);
            Linear.Backward(y, x, w, dx, dw, db, m, k, n, false, pool);
            Activations.GeluForward(a, o, pool);
            Activations.GeluBackward(a, o, o, pool);
            Activations.SiluForward(a, o, pool);
            Softmax.Forward(a, o, cols, SoftmaxMask.CausalSquare with { QueryRows = rows }, pool);
            Softmax.Backward(o, a, o, cols, pool);
            LayerNorm.Forward(a, g, bb, o, mean, rstd, cols, 1e-5f, pool);
            LayerNorm.Backward(a, a, g, mean, rstd, o, g, bb, cols, false, pool);
            RmsNorm.Forward(a, g, o, rstd, cols, 1e-6f, pool);
            Embedding.Forward(ids, table, cols, o, pool);
            Embedding.Backward(ids, a, table, cols, pool);
            CrossEntropy.ForwardBackward(a, ids, cols, losses, o, -100, 1f, pool);
            AdamW.Update(o, a, mom, vel, new AdamWSettings(), 1, pool);
            Precision.ToBFloat16(a, bf);
            Bias.Forward(a, g, o, pool);
        }

        // Warm-up long enough for tiered JIT to settle: with DOTNET_EnableHWIntrinsic=0 the
        // software Vector<T> path allocates a few bytes while methods are re-jitted, not per call.
        for (int i = 0; i < 50; i++) All();
        // A kernel that allocates per call allocates in every window; the runtime's own one-off
        // bookkeeping (a tier-1 method being installed while the measurement runs: 24 bytes once in a
        // CI pass on the AVX2 path, never reproduced alone) lands in one window at most. So: up to three
        // windows of 5 rounds, and at least one must allocate nothing.
        var windows = new List<long>(3);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) All();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0) return;
            windows.Add(allocated);
        }
        Assert.Fail($"every window of 5 rounds allocated: {string.Join(", ", windows)} bytes");
    }
}
