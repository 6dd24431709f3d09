// Which launcher started this process, read from the environment each one sets (OpenMPI's mpirun:
// OMPI_COMM_WORLD_*; PMIx-based launchers, srun --mpi=pmix included: PMIX_RANK; MPICH's hydra:
// PMI_RANK; Slurm's srun: SLURM_PROCID with SLURM_NTASKS). `loom train --distributed` started
// without one would otherwise silently train alone as rank 0 of 1 (MPI's singleton init).
namespace Loom.Distributed.Communication;

/// <summary>The process's launcher, as far as the environment tells.</summary>
public static class MpiLauncher
{
    /// <summary>The launcher's name ("mpirun", "srun", ...) or null when none started this process.</summary>
    public static string? Detect(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment("OMPI_COMM_WORLD_SIZE") != null) return "mpirun (OpenMPI)";
        if (environment("PMIX_RANK") != null) return "a PMIx launcher (mpirun or srun --mpi=pmix)";
        if (environment("PMI_RANK") != null || environment("PMI_SIZE") != null) return "a PMI launcher (MPICH hydra or srun --mpi=pmi2)";
        if (environment("SLURM_PROCID") != null && environment("SLURM_NTASKS") != null) return "srun (Slurm)";
        return null;
    }

    /// <summary>Throws naming the command to run when no launcher started this process.</summary>
    public static void EnsureLaunched(string option = "--distributed", Func<string, string?>? environment = null)
    {
        if (Detect(environment) is null)
            throw new InvalidOperationException($"{option} needs the process to be started by an MPI launcher, one process per rank: " +
                                                "mpirun -np 2 loom train --config C --distributed (or srun under Slurm). " +
                                                "No launcher variables (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK, SLURM_PROCID) are set; drop the option to train in one process.");
    }
}
