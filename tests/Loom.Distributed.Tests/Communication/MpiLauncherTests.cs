using Loom.Distributed.Communication;

namespace Loom.Distributed.Tests.Communication;

public sealed class MpiLauncherTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] set) =>
        name => set.FirstOrDefault(s => s.Name == name).Value;

    [Theory]
    [InlineData("OMPI_COMM_WORLD_SIZE", "mpirun (OpenMPI)")]
    [InlineData("PMIX_RANK", "a PMIx launcher (mpirun or srun --mpi=pmix)")]
    [InlineData("PMI_RANK", "a PMI launcher (MPICH hydra or srun --mpi=pmi2)")]
    public void EachLaunchersVariablesAreRecognised(string variable, string launcher) =>
        Assert.Equal(launcher, MpiLauncher.Detect(Env((variable, "0"))));

    [Fact]
    public void SrunNeedsBothItsVariables()
    {
        Assert.Null(MpiLauncher.Detect(Env(("SLURM_PROCID", "0"))));   // inside an allocation, but not started by srun per task
        Assert.Equal("srun (Slurm)", MpiLauncher.Detect(Env(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2"))));
    }

    [Fact]
    public void WithoutALauncherDistributedIsAnErrorThatSaysHowToLaunch()
    {
        var e = Assert.Throws<InvalidOperationException>(() => MpiLauncher.EnsureLaunched("--distributed", Env()));
        Assert.Contains("--distributed", e.Message);
        Assert.Contains("mpirun -np 2 loom train --config C --distributed", e.Message);
    }
}
