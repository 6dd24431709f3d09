// ICommunicator over MPI_COMM_WORLD of OpenMPI (see MpiNative for the ABI). One per process: MPI may be
// initialised once (MPI 4.0 §11.2.1), so Create() hands out the same instance until it is disposed,
// which finalises MPI. Initialised with MPI_THREAD_FUNNELED: only the thread that created it calls MPI
// (Loom's worker pool never does), which every MPI implementation supports.
//
// Failure of one rank: an unhandled exception on any thread, or one passed to Fail(), prints
// "rank r failed: ..." to stderr and calls MPI_Abort, which makes mpirun end every rank instead of
// leaving the others blocked forever in their next collective.
using System.Runtime.InteropServices;

namespace Loom.Distributed.Communication;

/// <summary>The MPI communicator of the whole job (MPI_COMM_WORLD).</summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    private static MpiCommunicator? _instance;
    private static readonly object Gate = new();
    private readonly int _thread;
    private nint* _requests;          // MPI_Request handles of StartAllReduceSum, by slot
    private readonly bool[] _busy;
    private const int Slots = 256;
    private bool _disposed;

    /// <inheritdoc/>
    public int Rank { get; }
    /// <inheritdoc/>
    public int Size { get; }
    /// <inheritdoc/>
    public int LocalRank { get; }

    private MpiCommunicator()
    {
        MpiNative.Load();
        int initialized;
        MpiNative.Check(MpiNative.Initialized(&initialized), "MPI_Initialized");
        if (initialized == 0)
        {
            int provided;
            MpiNative.Check(MpiNative.InitThread(null, null, MpiNative.ThreadFunneled, &provided), "MPI_Init_thread");
        }
        int rank, size;
        MpiNative.Check(MpiNative.CommRank(MpiNative.CommWorld, &rank), "MPI_Comm_rank");
        MpiNative.Check(MpiNative.CommSize(MpiNative.CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        LocalRank = ReadLocalRank();
        _thread = Environment.CurrentManagedThreadId;
        _requests = (nint*)NativeMemory.AllocZeroed(Slots, (nuint)sizeof(nint));
        _busy = new bool[Slots];
        AppDomain.CurrentDomain.UnhandledException += OnUnhandled;
    }

    /// <summary>
    /// Initialises MPI (once per process) and returns the world communicator. Throws when the process was
    /// not started by a launcher (see <see cref="MpiLauncher"/>) unless <paramref name="allowSingleton"/>.
    /// </summary>
    public static MpiCommunicator Create(bool allowSingleton = false)
    {
        if (!allowSingleton) MpiLauncher.EnsureLaunched();
        lock (Gate)
        {
            if (_instance is { _disposed: false }) return _instance;
            if (_instance != null) throw new InvalidOperationException("MPI was finalised in this process (the MpiCommunicator was disposed); MPI cannot be initialised twice.");
            return _instance = new MpiCommunicator();
        }
    }

    // OpenMPI's mpirun says it directly; otherwise ask MPI which ranks share this node's memory.
    private int ReadLocalRank()
    {
        foreach (string name in new[] { "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID" })
            if (int.TryParse(Environment.GetEnvironmentVariable(name), out int r)) return r;
        nint node;
        MpiNative.Check(MpiNative.CommSplitType(MpiNative.CommWorld, MpiNative.CommTypeShared, Rank, MpiNative.InfoNull, &node), "MPI_Comm_split_type");
        int local;
        MpiNative.Check(MpiNative.CommRank(node, &local), "MPI_Comm_rank");
        MpiNative.Check(MpiNative.CommFree(&node), "MPI_Comm_free");
        return local;
    }

    private void OnUnhandled(object? sender, UnhandledExceptionEventArgs e) =>
        Fail(e.ExceptionObject as Exception ?? new Exception(e.ExceptionObject?.ToString()));

    /// <summary>Reports <paramref name="error"/> as this rank's failure on stderr and aborts the whole job (exit code 1). Does not return.</summary>
    public void Fail(Exception error) => Abort(1, $"rank {Rank} failed: {error.GetType().Name}: {error.Message}");

    private void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Environment.CurrentManagedThreadId != _thread)
            throw new InvalidOperationException("MPI is initialised MPI_THREAD_FUNNELED: call the communicator only from the thread that created it.");
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> buffer)
    {
        EnsureUsable();
        fixed (float* p = buffer)
            MpiNative.Check(MpiNative.Allreduce(MpiNative.InPlace, (nint)p, buffer.Length, MpiNative.Float, MpiNative.OpSum, MpiNative.CommWorld), "MPI_Allreduce");
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> buffer)
    {
        EnsureUsable();
        fixed (double* p = buffer)
            MpiNative.Check(MpiNative.Allreduce(MpiNative.InPlace, (nint)p, buffer.Length, MpiNative.Double, MpiNative.OpSum, MpiNative.CommWorld), "MPI_Allreduce");
    }

    /// <inheritdoc/>
    public void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive)
    {
        EnsureUsable();
        if (send.Length != (long)receive.Length * Size)
            throw new ArgumentException($"ReduceScatterSum: send has {send.Length} floats; it must be receive ({receive.Length}) × ranks ({Size}).");
        fixed (float* s = send)
        fixed (float* r = receive)
            MpiNative.Check(MpiNative.ReduceScatterBlock((nint)s, (nint)r, receive.Length, MpiNative.Float, MpiNative.OpSum, MpiNative.CommWorld), "MPI_Reduce_scatter_block");
    }

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        EnsureUsable();
        if (receive.Length != (long)send.Length * Size)
            throw new ArgumentException($"AllGather: receive has {receive.Length} floats; it must be send ({send.Length}) × ranks ({Size}).");
        fixed (float* s = send)
        fixed (float* r = receive)
        {
            // send may be this rank's own chunk of receive (ZeRO's parameter all-gather): MPI_IN_PLACE, as MPI requires.
            nint source = s == r + (long)Rank * send.Length ? MpiNative.InPlace : (nint)s;
            MpiNative.Check(MpiNative.Allgather(source, send.Length, MpiNative.Float, (nint)r, send.Length, MpiNative.Float, MpiNative.CommWorld), "MPI_Allgather");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> buffer, int root)
    {
        EnsureUsable();
        CheckRank(root, nameof(root));
        fixed (float* p = buffer)
            MpiNative.Check(MpiNative.Bcast((nint)p, buffer.Length, MpiNative.Float, root, MpiNative.CommWorld), "MPI_Bcast");
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> buffer, int root)
    {
        EnsureUsable();
        CheckRank(root, nameof(root));
        fixed (byte* p = buffer)
            MpiNative.Check(MpiNative.Bcast((nint)p, buffer.Length, MpiNative.Byte, root, MpiNative.CommWorld), "MPI_Bcast");
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        EnsureUsable();
        MpiNative.Check(MpiNative.BarrierFn(MpiNative.CommWorld), "MPI_Barrier");
    }

    /// <inheritdoc/>
    public void Send(ReadOnlySpan<float> buffer, int destination, int tag)
    {
        EnsureUsable();
        CheckRank(destination, nameof(destination));
        fixed (float* p = buffer)
            MpiNative.Check(MpiNative.SendFn((nint)p, buffer.Length, MpiNative.Float, destination, tag, MpiNative.CommWorld), "MPI_Send");
    }

    /// <inheritdoc/>
    public void Receive(Span<float> buffer, int source, int tag)
    {
        EnsureUsable();
        CheckRank(source, nameof(source));
        MpiNative.Status status;
        fixed (float* p = buffer)
            MpiNative.Check(MpiNative.Recv((nint)p, buffer.Length, MpiNative.Float, source, tag, MpiNative.CommWorld, &status), "MPI_Recv");
        long got = (long)status.Count / sizeof(float);
        if (got != buffer.Length)
            throw new InvalidOperationException($"Receive from rank {source} (tag {tag}) got {got} floats; {buffer.Length} were expected. The ranks disagree on a shape.");
    }

    /// <inheritdoc/>
    public CommunicationRequest StartAllReduceSum(nint buffer, int count)
    {
        EnsureUsable();
        int slot = Array.IndexOf(_busy, false);
        if (slot < 0) throw new InvalidOperationException($"More than {Slots} non-blocking reductions are in flight; wait for some before starting more.");
        MpiNative.Check(MpiNative.Iallreduce(MpiNative.InPlace, buffer, count, MpiNative.Float, MpiNative.OpSum, MpiNative.CommWorld, &_requests[slot]), "MPI_Iallreduce");
        _busy[slot] = true;
        return new CommunicationRequest(slot);
    }

    /// <inheritdoc/>
    public CommunicationRequest StartAllGather(nint send, int count, nint receive)
    {
        EnsureUsable();
        int slot = Array.IndexOf(_busy, false);
        if (slot < 0) throw new InvalidOperationException($"More than {Slots} non-blocking operations are in flight; wait for some before starting more.");
        MpiNative.Check(MpiNative.Iallgather(send, count, MpiNative.Float, receive, count, MpiNative.Float, MpiNative.CommWorld, &_requests[slot]), "MPI_Iallgather");
        _busy[slot] = true;
        return new CommunicationRequest(slot);
    }

    /// <inheritdoc/>
    public bool Test(CommunicationRequest request)
    {
        if (request.Slot < 0) return true;
        EnsureUsable();
        if (!_busy[request.Slot]) return true;
        int done;
        MpiNative.Check(MpiNative.Test(&_requests[request.Slot], &done, null), "MPI_Test");
        if (done != 0) _busy[request.Slot] = false;
        return done != 0;
    }

    /// <inheritdoc/>
    public void Wait(CommunicationRequest request)
    {
        if (request.Slot < 0) return;
        EnsureUsable();
        if (!_busy[request.Slot]) return;
        MpiNative.Check(MpiNative.Wait(&_requests[request.Slot], null), "MPI_Wait");
        _busy[request.Slot] = false;
    }

    /// <inheritdoc/>
    public void Abort(int exitCode, string reason)
    {
        try
        {
            Console.Out.Flush();
            Console.Error.WriteLine(reason);
            Console.Error.Flush();
        }
        catch (IOException) { }   // stderr gone: abort anyway
        MpiNative.AbortFn(MpiNative.CommWorld, exitCode);
        Environment.Exit(exitCode);   // MPI_Abort does not return; if an implementation does, end this rank at least
    }

    private void CheckRank(int rank, string name)
    {
        if ((uint)rank >= (uint)Size) throw new ArgumentOutOfRangeException(name, rank, $"{name} is {rank}; ranks run 0..{Size - 1}.");
    }

    /// <summary>Finalises MPI (after a barrier-free MPI_Finalize, which is collective).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        AppDomain.CurrentDomain.UnhandledException -= OnUnhandled;
        int finalized;
        if (MpiNative.Finalized(&finalized) == MpiNative.Success && finalized == 0) MpiNative.Finalize();
        NativeMemory.Free(_requests);
        _requests = null;
    }
}
