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
    }
}
