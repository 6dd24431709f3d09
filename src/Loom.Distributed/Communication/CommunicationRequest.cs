namespace Loom.Distributed.Communication;

/// <summary>
/// A non-blocking operation in flight (MPI_Request), started by <see cref="ICommunicator.StartAllReduceSum"/>;
/// finish it with <see cref="ICommunicator.Wait"/>. A value, so starting one allocates nothing.
/// </summary>
/// <param name="Slot">The communicator's slot for it; −1 for one that completed when it started.</param>
public readonly record struct CommunicationRequest(int Slot)
{
    /// <summary>A request that is already complete (the blocking fallback).</summary>
    public static CommunicationRequest Completed => new(-1);
}
