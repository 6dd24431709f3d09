// Tensor and pipeline parallelism through the real MPI binding: `mpirun -np 2` of this assembly's
// ParallelismWorker, each rank checking its loss curve and gradients against the single-rank model
// to 1e-5 (the same checks the in-process tests make, over OpenMPI's shared-memory transport).
namespace Loom.Distributed.Tests.Harness;

[Collection(nameof(MpiCollection))]
public sealed class ParallelismMpiTests
{
    [Fact]
    public void TensorParallelOnTwoMpiRanksEqualsTheSingleRankModel()
    {
        var r = MpiJob.Run(2, ["tensor-parallel"], TimeSpan.FromSeconds(120));
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode} after {r.Elapsed}:\n{r.Output}");
        Assert.Contains("rank 0: tensor-parallel ok", r.Output);
        Assert.Contains("rank 1: tensor-parallel ok", r.Output);
    }

    [Fact]
    public void PipelineParallelOnTwoMpiRanksEqualsTheSingleRankModel()
    {
        var r = MpiJob.Run(2, ["pipeline-parallel", "1f1b", "4"], TimeSpan.FromSeconds(120));
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode} after {r.Elapsed}:\n{r.Output}");
        Assert.Contains("rank 0: pipeline-parallel OneForwardOneBackward ok", r.Output);
        Assert.Contains("rank 1: pipeline-parallel OneForwardOneBackward ok", r.Output);
    }
}
