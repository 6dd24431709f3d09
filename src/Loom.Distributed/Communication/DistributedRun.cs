namespace Loom.Distributed.Communication;

/// <summary>Runs one rank's work so that its failure ends the whole job with a message naming the rank.</summary>
public static class DistributedRun
{
    /// <summary>
    /// Runs <paramref name="body"/>; an exception is printed as "rank r failed: ..." and aborts every rank
    /// (MPI_Abort through <see cref="ICommunicator.Abort"/>), since the other ranks would otherwise wait in
    /// their next collective forever. Returns the body's exit code.
    /// </summary>
    public static int Guard(ICommunicator communicator, Func<int> body)
    {
        try { return body(); }
        catch (Exception e)
        {
            communicator.Abort(1, $"rank {communicator.Rank} failed: {e.GetType().Name}: {e.Message}");
            throw;   // unreachable: Abort does not return
        }
    }
}
