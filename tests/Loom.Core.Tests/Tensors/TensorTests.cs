using Loom.Core.Kernels;
using Loom.Core.Tensors;

namespace Loom.Core.Tests.Tensors;

// Tests that read the process-wide live-bytes counter must not run beside tests that allocate.
[Collection(nameof(LiveMemoryCollection))]
public class TensorTests
{
    [Fact]
    public unsafe void BuffersAreAlignedAndCounted()
    {
        long before = NativeBuffer.LiveBytes;
        using (var a = new NativeBuffer(100))
        using (var b = new NativeBuffer(3))
        {
            Assert.Equal(0, (long)a.Pointer % 64);
            Assert.Equal(0, (long)b.Pointer % 64);
            Assert.Equal(before + 103, NativeBuffer.LiveBytes);
            Assert.All(a.AsSpan<byte>().ToArray(), v => Assert.Equal(0, v));
        }
        Assert.Equal(before, NativeBuffer.LiveBytes);
    }

    // LOOM_HUGE_PAGES=1 (NativeBuffer.HugePages): a large block is mmap'd on a 2 MiB boundary, zero, counted like
    // any other, readable and writable to its last byte, and unmapped on dispose; small blocks are unchanged.
    [Fact]
    public unsafe void HugePageBlocksAreAlignedZeroCountedAndFreed()
    {
        if (!OperatingSystem.IsLinux()) return;
        bool saved = NativeBuffer.HugePages;
        long before = NativeBuffer.LiveBytes;
        try
        {
            NativeBuffer.HugePages = true;
            long n = NativeBuffer.HugePageMinBytes + 12345;
            using (var big = new NativeBuffer(n))
            using (var raw = new NativeBuffer(n, zero: false))
            using (var small = new NativeBuffer(4096))
            {
                Assert.True(big.IsHugePageBacked);
                Assert.True(raw.IsHugePageBacked);
                Assert.False(small.IsHugePageBacked);
                Assert.Equal(0, (long)big.Pointer % (2L << 20));
                Assert.Equal(0, (long)raw.Pointer % (2L << 20));
                Assert.Equal(before + 2 * n + 4096, NativeBuffer.LiveBytes);
                byte* p = (byte*)big.Pointer;
                for (long i = 0; i < n; i += 4093) Assert.Equal(0, p[i]);
                Assert.Equal(0, p[n - 1]);
                p[0] = 1; p[n - 1] = 2;
                Assert.Equal(1, p[0]);
                Assert.Equal(2, p[n - 1]);
            }
            Assert.Equal(before, NativeBuffer.LiveBytes);
        }
        finally
        {
            NativeBuffer.HugePages = saved;
        }
    }

    [Fact]
    public void DoubleDisposeIsSafeAndUseAfterDisposeThrows()
    {
        var t = Tensor.Zeros(DType.F32, 2, 3);
        var view = t.View;
        t.Dispose();
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => view.AsSpan<float>());
        Assert.Throws<ObjectDisposedException>(() => t.AsSpan<float>());
        unsafe { Assert.Throws<ObjectDisposedException>(() => (nint)view.Pointer); }
    }

    [Fact]
    public void ViewsHaveShapesStridesSlicesAndTransposes()
    {
        using var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var v = t.View;
        Assert.Equal(new TensorShape(2, 3, 4), v.Shape);
        Assert.Equal(12, v.Stride(0));
        Assert.Equal(4, v.Stride(1));
        Assert.Equal(1, v.Stride(-1));
        Assert.True(v.IsContiguous);

        var s = v.Slice(1, 1);
        Assert.Equal(new TensorShape(1, 3, 4), s.Shape);
        Assert.Equal(12f, s.AsSpan<float>()[0]);

        var tr = v.Transpose(1, 2);
        Assert.Equal(new TensorShape(2, 4, 3), tr.Shape);
        Assert.False(tr.IsContiguous);
        Assert.Throws<InvalidOperationException>(() => tr.AsSpan<float>());

        var r = v.Reshape(6, 4);
        Assert.Equal(4f, r.AsSpan<float>()[4]);
        var ex = Assert.Throws<ArgumentException>(() => v.Reshape(5, 5));
        Assert.Contains("[2, 3, 4]", ex.Message);
        Assert.Contains("[5, 5]", ex.Message);
    }

    [Fact]
    public void DTypeMismatchAndBadShapesThrow()
    {
        using var t = Tensor.Zeros(DType.BF16, 4);
        Assert.Equal(8, t.Buffer.ByteLength);
        Assert.Equal(4, t.AsSpan<BFloat16>().Length);
        var ex = Assert.Throws<InvalidOperationException>(() => t.AsSpan<float>());
        Assert.Contains("bf16", ex.Message);
        Assert.Throws<ArgumentException>(() => new TensorShape(1, 2, 3, 4, 5, 6, 7));
        Assert.Throws<ArgumentException>(() => new TensorShape(2, -1));
        using var buf = new NativeBuffer(16);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorView(buf, 0, DType.F32, new TensorShape(5)));
        Assert.Equal(1, DType.I8.ByteCount(1));
        Assert.Equal(4, DType.I32.ByteCount(1));
        Assert.Equal(2, DType.F16.ByteCount(1));
    }

    [Fact]
    public void ShapeMismatchNamesBothShapes()
    {
        using var x = Tensor.Zeros(DType.F32, 4, 8);
        using var w = Tensor.Zeros(DType.F32, 3, 7);
        using var y = Tensor.Zeros(DType.F32, 4, 3);
        var ex = Assert.Throws<ArgumentException>(() => Ops.Linear(x.View, w.View, null, y.View));
        Assert.Contains("[4, 8]", ex.Message);
        Assert.Contains("[3, 7]", ex.Message);

        using var a = Tensor.Zeros(DType.F32, 2, 5);
        using var b = Tensor.Zeros(DType.F32, 4, 3);
        using var c = Tensor.Zeros(DType.F32, 2, 3);
        ex = Assert.Throws<ArgumentException>(() => Ops.MatMul(a.View, b.View, c.View));
        Assert.Contains("[2, 5]", ex.Message);
        Assert.Contains("[4, 3]", ex.Message);

        ex = Assert.Throws<ArgumentException>(() => Ops.Gelu(a.View, c.View));
        Assert.Contains("[2, 5]", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
    }

    [Fact]
    public void OpsComputeThroughViews()
    {
        using var x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        using var w = Tensor.FromArray([1, 0, 0, 0, 1, 1], 2, 3);
        using var b = Tensor.FromArray([10, 20], 2);
        using var y = Tensor.Zeros(DType.F32, 2, 2);
        Ops.Linear(x.View, w.View, b.View, y.View);
        Assert.Equal(new float[] { 11, 25, 14, 31 }, y.AsSpan<float>().ToArray());

        using var batchA = Tensor.FromArray([1, 2, 3, 4, 1, 0, 0, 1], 2, 2, 2);
        using var batchC = Tensor.Zeros(DType.F32, 2, 2, 2);
        Ops.MatMul(batchA.View, batchA.View, batchC.View, Transpose.No, Transpose.Yes);
        Assert.Equal(new float[] { 5, 11, 11, 25, 1, 0, 0, 1 }, batchC.AsSpan<float>().ToArray());
    }

    [Fact]
    public void ArenaResetsAndReportsOverflow()
    {
        using var arena = new Arena(1024);
        var a = arena.Allocate(DType.F32, 10);
        var b = arena.AllocateSpan<float>(3);
        Assert.Equal(0, a.ByteOffset % 64);
        Assert.Equal(64 + 12, arena.Used);
        arena.Reset();
        Assert.Equal(0, arena.Used);
        Assert.Equal(76, arena.HighWater);
        var again = arena.Allocate(DType.F32, 10);
        Assert.Equal(a.ByteOffset, again.ByteOffset);
        var ex = Assert.Throws<InvalidOperationException>(() => arena.Allocate(DType.F32, 1000));
        Assert.Contains("Create the arena with at least", ex.Message);
        Assert.Equal(0, b.Length - 3);
    }
}

[CollectionDefinition(nameof(LiveMemoryCollection), DisableParallelization = true)]
public class LiveMemoryCollection;
