// A decorator that counts what an algorithm communicates — all-reduce calls and floats, messages
// and floats sent — and forwards every call to the communicator it wraps. The tensor-parallel tests
// count all-reduces per block with it; the parallelism bench reports communication volume per step.
namespace Loom.Distributed.Communication;

/// <summary>Counts the traffic through an <see cref="ICommunicator"/>.</summary>
public sealed class MeteredCommunicator(ICommunicator inner) : ICommunicator
{
    /// <summary>float all-reduces since the last <see cref="Reset"/>.</summary>
    public int AllReduceCalls { get; private set; }

    /// <summary>Floats all-reduced (each call's buffer length) since the last <see cref="Reset"/>.</summary>
    public long AllReduceFloats { get; private set; }

    /// <summary>Point-to-point messages sent since the last <see cref="Reset"/>.</summary>
    public int SendCalls { get; private set; }

    /// <summary>Floats sent point to point since the last <see cref="Reset"/>.</summary>
    public long SentFloats { get; private set; }

    /// <summary>Floats all-gathered (each rank's contribution) since the last <see cref="Reset"/>.</summary>
    public long GatheredFloats { get; private set; }

    /// <summary>Zeroes the counters.</summary>
    public void Reset() { AllReduceCalls = 0; AllReduceFloats = 0; SendCalls = 0; SentFloats = 0; GatheredFloats = 0; }

    public int Rank => inner.Rank;
    public int Size => inner.Size;
    public int LocalRank => inner.LocalRank;
    public void AllReduceSum(Span<float> buffer) { AllReduceCalls++; AllReduceFloats += buffer.Length; inner.AllReduceSum(buffer); }
    public void AllReduceSum(Span<double> buffer) => inner.AllReduceSum(buffer);
    public void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive) => inner.ReduceScatterSum(send, receive);
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) { GatheredFloats += send.Length; inner.AllGather(send, receive); }
    public void Broadcast(Span<float> buffer, int root) => inner.Broadcast(buffer, root);
    public void Broadcast(Span<byte> buffer, int root) => inner.Broadcast(buffer, root);
    public void Barrier() => inner.Barrier();
    public void Send(ReadOnlySpan<float> buffer, int destination, int tag) { SendCalls++; SentFloats += buffer.Length; inner.Send(buffer, destination, tag); }
    public void Receive(Span<float> buffer, int source, int tag) => inner.Receive(buffer, source, tag);
    public void Abort(int exitCode, string reason) => inner.Abort(exitCode, reason);

    /// <summary>Does not dispose the wrapped communicator (its owner does).</summary>
    public void Dispose() { }
}
