// What a rank sees when another rank of its group aborted (ICommunicator.Abort or a failure): the
// in-process counterpart of MPI_Abort ending the job, naming the rank that caused it.
namespace Loom.Distributed.Communication;

/// <summary>The group was aborted by rank <see cref="FailedRank"/>.</summary>
public sealed class CommunicatorAbortedException(int failedRank, int exitCode, string reason)
    : Exception($"rank {failedRank} aborted the job (exit code {exitCode}): {reason}")
{
    /// <summary>The rank that aborted or failed first.</summary>
    public int FailedRank { get; } = failedRank;

    /// <summary>The exit code it asked for.</summary>
    public int ExitCode { get; } = exitCode;
}
