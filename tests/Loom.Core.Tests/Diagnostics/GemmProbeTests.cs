using Loom.Core.Diagnostics;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Diagnostics;

public class GemmProbeTests
{
    [Fact]
    public void MeasuresAPositiveRateAndChecksTheResult()
    {
        using var pool = new WorkerPool(2);
        var m = GemmProbe.Measure(0.05, 96, pool);
        Assert.True(m.Calls >= 1);
        Assert.True(m.GflopsPerSecond > 0);
        Assert.True(m.MaxAbsError < 1e-4, $"max error {m.MaxAbsError}");
        var r = MachineReport.Current(pool);
        Assert.Equal(2, r.PoolThreads);
        Assert.True(r.LogicalCores >= 1);
        Assert.Equal(Loom.Core.Kernels.Gemm.SelectedPath, m.Path);
        Assert.Equal(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, r.Vector512Accelerated);
    }

    [Fact]
    public void FmaPeakIsMeasuredForEachWidthTheCpuHas()
    {
        using var pool = new WorkerPool(1);
        var widths = FmaPeak.AvailableWidths();
        Assert.Equal(System.Runtime.Intrinsics.X86.Fma.IsSupported, widths.Contains(256));
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, widths.Contains(512));
        foreach (int bits in widths)
        {
            var p = FmaPeak.Measure(bits, 0.02, pool);
            Assert.Equal(bits, p.Bits);
            Assert.True(p.GflopsPerSecond > 0 && double.IsFinite(p.GflopsPerSecond));
        }
        if (!widths.Contains(512)) Assert.Throws<NotSupportedException>(() => FmaPeak.Measure(512, 0.01, pool));
    }
}
