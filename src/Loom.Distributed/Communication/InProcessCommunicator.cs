// N ranks as N threads of one process, meeting at a shared rendezvous: the fast stand-in for MPI
// that the tensor- and pipeline-parallel tests run on. It keeps MPI's semantics (MPI 4.0 standard,
// ch. 3 point-to-point, ch. 6 collectives): every rank calls the same collectives in the same order
// with buffers of the same length (checked: a mismatch throws on every rank, naming the ranks and
// lengths, where MPI would be undefined), sends to a (source, tag) arrive in order, and a receive of
// the wrong length is an error (MPI_ERR_TRUNCATE). It is not a transport: nothing leaves the process.
//
// A collective is two phases around a barrier: each rank copies its contribution into its own
// staging array; after the barrier every rank reads all stagings and computes the result itself,
// summing in rank order 0, 1, …, N−1 so every rank gets bit-identical results, run after run (the
// determinism MPI's reduction order does not promise and our equality tests need); a second
// barrier keeps a fast rank from overwriting its staging before the slow ones have read it.
// Sends are buffered (a copy is queued), which MPI_Send is allowed to be.
// Abort wakes every waiting rank with an exception naming the rank that aborted and why, so a
// failure on one thread never leaves the others hanging in a barrier.

namespace Loom.Distributed.Communication;

/// <summary>One rank of an in-process group of ranks running on threads (tests, single-machine experiments).</summary>
public sealed class InProcessCommunicator : ICommunicator
{
    private readonly Rendezvous _group;

    private InProcessCommunicator(Rendezvous group, int rank)
    {
        _group = group;
        Rank = rank;
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size => _group.Size;

    /// <inheritdoc/>
    public int LocalRank => Rank;   // one process is one node

    /// <summary>Creates the <paramref name="size"/> ranks of one group; give each to its own thread.</summary>
    public static InProcessCommunicator[] Create(int size)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "An in-process group needs at least 1 rank.");
        var group = new Rendezvous(size);
        var ranks = new InProcessCommunicator[size];
        for (int r = 0; r < size; r++) ranks[r] = new InProcessCommunicator(group, r);
        return ranks;
    }

    /// <summary>
    /// Runs <paramref name="body"/> on <paramref name="size"/> threads, one per rank, and returns each
    /// rank's result in rank order. When a rank throws, the group is aborted (the others leave their
    /// collectives) and the first failure is rethrown, naming its rank.
    /// </summary>
    public static T[] Run<T>(int size, Func<ICommunicator, T> body)
    {
        var ranks = Create(size);
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = new Thread[size];
        for (int r = 0; r < size; r++)
        {
            int rank = r;
            threads[r] = new Thread(() =>
            {
                try { results[rank] = body(ranks[rank]); }
                catch (Exception e)
                {
                    errors[rank] = e;
                    ranks[rank]._group.Fail(rank, e.Message);
                }
            }, 16 << 20) { IsBackground = true, Name = $"loom-rank-{rank}" };
            threads[r].Start();
        }
        foreach (var t in threads) t.Join();
        foreach (var r in ranks) r.Dispose();
        // The rank that failed first is the cause; the others only saw the abort.
        int first = ranks[0]._group.FailedRank;
        if (first >= 0 && errors[first] is { } cause)
            throw new InvalidOperationException($"rank {first} of {size} failed: {cause.Message}", cause);
        for (int r = 0; r < size; r++)
            if (errors[r] is { } e) throw new InvalidOperationException($"rank {r} of {size} failed: {e.Message}", e);
        return results;
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="size"/> threads (see <see cref="Run{T}"/>).</summary>
    public static void Run(int size, Action<ICommunicator> body) => Run(size, c => { body(c); return 0; });

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> buffer)
    {
        _group.Deposit(Rank, (ReadOnlySpan<float>)buffer, "AllReduceSum(float)");
        SumInRankOrder(_group.FloatStage, buffer.Length, buffer);
        _group.Leave();
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> buffer)
    {
        _group.Deposit(Rank, (ReadOnlySpan<double>)buffer, "AllReduceSum(double)");
        var all = _group.DoubleStage;
        for (int i = 0; i < buffer.Length; i++)
        {
            double s = all[0][i];
            for (int r = 1; r < Size; r++) s += all[r][i];
            buffer[i] = s;
        }
        _group.Leave();
    }

    /// <inheritdoc/>
    public void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive)
    {
        if (send.Length != (long)receive.Length * Size)
            throw new ArgumentException($"ReduceScatterSum on rank {Rank}: send has {send.Length} floats; it must be receive's {receive.Length} × {Size} ranks = {(long)receive.Length * Size}.");
        _group.Deposit(Rank, send, "ReduceScatterSum");
        int n = receive.Length, offset = Rank * n;
        var all = _group.FloatStage;
        for (int i = 0; i < n; i++)
        {
            float s = all[0][offset + i];
            for (int r = 1; r < Size; r++) s += all[r][offset + i];
            receive[i] = s;
        }
        _group.Leave();
    }

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        if (receive.Length != (long)send.Length * Size)
            throw new ArgumentException($"AllGather on rank {Rank}: receive has {receive.Length} floats; it must be send's {send.Length} × {Size} ranks = {(long)send.Length * Size}.");
        _group.Deposit(Rank, send, "AllGather");
        int n = send.Length;
        for (int r = 0; r < Size; r++) _group.FloatStage[r].AsSpan(0, n).CopyTo(receive.Slice(r * n, n));
        _group.Leave();
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> buffer, int root)
    {
        CheckRank(root, nameof(root));
        _group.Deposit(Rank, Rank == root ? buffer : default, "Broadcast(float)", lengthCheck: buffer.Length);
        if (Rank != root) _group.FloatStage[root].AsSpan(0, buffer.Length).CopyTo(buffer);
        _group.Leave();
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> buffer, int root)
    {
        CheckRank(root, nameof(root));
        _group.Deposit(Rank, Rank == root ? buffer : default, "Broadcast(byte)", buffer.Length);
        if (Rank != root) _group.ByteStage[root].AsSpan(0, buffer.Length).CopyTo(buffer);
        _group.Leave();
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        _group.Deposit(Rank, ReadOnlySpan<float>.Empty, "Barrier");
        _group.Leave();
    }

    /// <inheritdoc/>
    public void Send(ReadOnlySpan<float> buffer, int destination, int tag)
    {
        CheckRank(destination, nameof(destination));
        if (destination == Rank) throw new ArgumentException($"Send on rank {Rank}: destination is this rank; send to another rank.");
        _group.Post(Rank, destination, tag, buffer.ToArray());
    }

    /// <inheritdoc/>
    public void Receive(Span<float> buffer, int source, int tag)
    {
        CheckRank(source, nameof(source));
        if (source == Rank) throw new ArgumentException($"Receive on rank {Rank}: source is this rank; receive from another rank.");
        var message = _group.Take(source, Rank, tag);
        if (message.Length != buffer.Length)
            throw new InvalidOperationException($"Receive on rank {Rank}: the message from rank {source} (tag {tag}) has {message.Length} floats; the receive buffer has {buffer.Length} (MPI_ERR_TRUNCATE).");
        message.CopyTo(buffer);
    }

    /// <inheritdoc/>
    public void Abort(int exitCode, string reason)
    {
        _group.Fail(Rank, reason);
        // A thread cannot end the process's other threads as MPI_Abort ends processes: this rank
        // leaves by an exception, and every rank waiting in the group wakes with one naming it.
        throw new CommunicatorAbortedException(Rank, exitCode, reason);
    }

    public void Dispose() { }

    private void CheckRank(int rank, string name)
    {
        if ((uint)rank >= (uint)Size) throw new ArgumentOutOfRangeException(name, rank, $"Rank must be in [0, {Size}).");
    }

    private void SumInRankOrder(float[][] all, int n, Span<float> destination)
    {
        all[0].AsSpan(0, n).CopyTo(destination);
        for (int r = 1; r < Size; r++) System.Numerics.Tensors.TensorPrimitives.Add(destination, all[r].AsSpan(0, n), destination);
    }

    // The shared state of one group: staging arrays per rank, the two-phase barrier, mailboxes.
    private sealed class Rendezvous(int size)
    {
        public readonly int Size = size;
        public readonly float[][] FloatStage = Enumerable.Range(0, size).Select(_ => Array.Empty<float>()).ToArray();
        public readonly double[][] DoubleStage = Enumerable.Range(0, size).Select(_ => Array.Empty<double>()).ToArray();
        public readonly byte[][] ByteStage = Enumerable.Range(0, size).Select(_ => Array.Empty<byte>()).ToArray();
        private readonly (string Op, int Length)[] _calls = new (string, int)[size];
        private readonly Barrier _barrier = new(size);
        private readonly CancellationTokenSource _abort = new();
        private readonly Dictionary<(int From, int To, int Tag), Queue<float[]>> _mail = new();
        private string _reason = "";
        public int FailedRank { get; private set; } = -1;

        public void Fail(int rank, string reason)
        {
            lock (_mail)
            {
                if (FailedRank < 0) { FailedRank = rank; _reason = reason; }
                Monitor.PulseAll(_mail);
            }
            _abort.Cancel();
        }

        private void Wait()
        {
            try { _barrier.SignalAndWait(_abort.Token); }
            catch (OperationCanceledException) { throw Aborted(); }
        }

        private CommunicatorAbortedException Aborted() => new(FailedRank, 1, _reason);

        public int Deposit(int rank, ReadOnlySpan<float> data, string op, int lengthCheck = -1)
        {
            Grow(ref FloatStage[rank], data.Length);
            data.CopyTo(FloatStage[rank]);
            return Arrive(rank, op, lengthCheck >= 0 ? lengthCheck : data.Length);
        }

        public int Deposit(int rank, ReadOnlySpan<double> data, string op)
        {
            Grow(ref DoubleStage[rank], data.Length);
            data.CopyTo(DoubleStage[rank]);
            return Arrive(rank, op, data.Length);
        }

        public int Deposit(int rank, ReadOnlySpan<byte> data, string op, int length)
        {
            Grow(ref ByteStage[rank], data.Length);
            data.CopyTo(ByteStage[rank]);
            return Arrive(rank, op, length);
        }

        // Phase one: every rank has staged; check that all called the same collective with the same length.
        private int Arrive(int rank, string op, int length)
        {
            _calls[rank] = (op, length);
            Wait();
            for (int r = 1; r < Size; r++)
                if (_calls[r] != _calls[0])
                    throw new InvalidOperationException(
                        $"Collective mismatch: rank 0 called {_calls[0].Op} with {_calls[0].Length} elements, rank {r} called {_calls[r].Op} with {_calls[r].Length}; every rank must call the same collectives in the same order with the same lengths.");
            return length;
        }

        // Phase two: nobody rewrites a staging array before every rank has read them all.
        public void Leave() => Wait();

        private static void Grow<T>(ref T[] array, int length)
        {
            if (array.Length < length) array = new T[Math.Max(length, array.Length * 2)];
        }

        public void Post(int from, int to, int tag, float[] message)
        {
            lock (_mail)
            {
                if (FailedRank >= 0) throw Aborted();
                if (!_mail.TryGetValue((from, to, tag), out var q)) _mail[(from, to, tag)] = q = new Queue<float[]>();
                q.Enqueue(message);
                Monitor.PulseAll(_mail);
            }
        }

        public float[] Take(int from, int to, int tag)
        {
            lock (_mail)
            {
                while (true)
                {
                    if (_mail.TryGetValue((from, to, tag), out var q) && q.Count > 0) return q.Dequeue();
                    if (FailedRank >= 0) throw Aborted();
                    Monitor.Wait(_mail);
                }
            }
        }
    }
}
