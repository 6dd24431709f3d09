namespace Loom.Distributed.Communication;

/// <summary>
/// The collectives and point-to-point operations distributed training needs, with MPI's semantics
/// (MPI 4.0 standard, ch. 3 and 6): every rank of the communicator calls each collective in the same
/// order with buffers of the same length. Implementations: the MPI binding (OpenMPI through P/Invoke)
/// for real runs under <c>mpirun</c>/<c>srun</c>, and an in-process one (ranks on threads) for fast
/// tests of the parallel algorithms; the algorithms see only this interface.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank in the world, 0-based.</summary>
    int Rank { get; }

    /// <summary>The number of ranks.</summary>
    int Size { get; }

    /// <summary>This process's rank among the ranks on its node (for pinning threads or devices).</summary>
    int LocalRank { get; }

    /// <summary>Element-wise sum over all ranks, in place; every rank receives the result.</summary>
    void AllReduceSum(Span<float> buffer);

    /// <summary>Element-wise sum over all ranks, in place, in double (losses, token counts).</summary>
    void AllReduceSum(Span<double> buffer);

    /// <summary>
    /// Sums <paramref name="send"/> over all ranks and leaves chunk <see cref="Rank"/> of the sum in
    /// <paramref name="receive"/>; <c>send.Length == receive.Length * Size</c>.
    /// </summary>
    void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive);

    /// <summary>
    /// Concatenates every rank's <paramref name="send"/> in rank order into <paramref name="receive"/>;
    /// <c>receive.Length == send.Length * Size</c>.
    /// </summary>
    void AllGather(ReadOnlySpan<float> send, Span<float> receive);

    /// <summary>Copies <paramref name="buffer"/> of rank <paramref name="root"/> into every rank's buffer.</summary>
    void Broadcast(Span<float> buffer, int root);

    /// <summary>Copies <paramref name="buffer"/> of rank <paramref name="root"/> into every rank's buffer.</summary>
    void Broadcast(Span<byte> buffer, int root);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>Blocking send to rank <paramref name="destination"/> (pipeline activations and gradients).</summary>
    void Send(ReadOnlySpan<float> buffer, int destination, int tag);

    /// <summary>Blocking receive of exactly <c>buffer.Length</c> floats from rank <paramref name="source"/>.</summary>
    void Receive(Span<float> buffer, int source, int tag);

    /// <summary>
    /// Ends every rank of the job at once (MPI_Abort): used when one rank fails so the others do not
    /// hang in a collective. Does not return.
    /// </summary>
    void Abort(int exitCode, string reason);

    /// <summary>
    /// Starts an in-place sum over all ranks of <paramref name="count"/> floats at <paramref name="buffer"/>
    /// (native memory that stays put until <see cref="Wait"/>), and returns at once (MPI_Iallreduce), so
    /// gradient buckets are reduced while the backward still runs. The default runs the blocking
    /// <see cref="AllReduceSum(Span{float})"/> and returns a completed request.
    /// </summary>
    unsafe CommunicationRequest StartAllReduceSum(nint buffer, int count)
    {
        AllReduceSum(new Span<float>((void*)buffer, count));
        return CommunicationRequest.Completed;
    }

    /// <summary>
    /// Starts gathering every rank's <paramref name="count"/> floats at <paramref name="send"/> into
    /// <paramref name="receive"/> (count × Size floats, rank order) and returns at once (MPI_Iallgather):
    /// ZeRO-3 prefetches the next block's parameters this way. Both buffers are native memory that stays
    /// put until <see cref="Wait"/>. The default runs the blocking <see cref="AllGather"/>.
    /// </summary>
    unsafe CommunicationRequest StartAllGather(nint send, int count, nint receive)
    {
        AllGather(new ReadOnlySpan<float>((void*)send, count), new Span<float>((void*)receive, checked(count * Size)));
        return CommunicationRequest.Completed;
    }

    /// <summary>Drives <paramref name="request"/> (MPI_Test); true once it has completed (then <see cref="Wait"/> returns at once).</summary>
    bool Test(CommunicationRequest request) => true;

    /// <summary>Returns when <paramref name="request"/> has completed (MPI_Wait); its buffer then holds the result.</summary>
    void Wait(CommunicationRequest request) { }
}
