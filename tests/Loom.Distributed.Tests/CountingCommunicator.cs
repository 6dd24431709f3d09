// A communicator that counts the collectives and messages passing through it (the tests' check of
// how many all-reduces and sends an algorithm makes), forwarding everything to the real one.
using Loom.Distributed.Communication;

namespace Loom.Distributed.Tests;

internal sealed class CountingCommunicator(ICommunicator inner) : ICommunicator
{
    public int AllReduces, Sends;
    public long SentFloats, ReducedFloats;
    public int Rank => inner.Rank;
    public int Size => inner.Size;
    public int LocalRank => inner.LocalRank;
    public void AllReduceSum(Span<float> buffer) { AllReduces++; ReducedFloats += buffer.Length; inner.AllReduceSum(buffer); }
    public void AllReduceSum(Span<double> buffer) => inner.AllReduceSum(buffer);
    public void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive) => inner.ReduceScatterSum(send, receive);
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) => inner.AllGather(send, receive);
    public void Broadcast(Span<float> buffer, int root) => inner.Broadcast(buffer, root);
    public void Broadcast(Span<byte> buffer, int root) => inner.Broadcast(buffer, root);
    public void Barrier() => inner.Barrier();
    public void Send(ReadOnlySpan<float> buffer, int destination, int tag) { Sends++; SentFloats += buffer.Length; inner.Send(buffer, destination, tag); }
    public void Receive(Span<float> buffer, int source, int tag) => inner.Receive(buffer, source, tag);
    public void Abort(int exitCode, string reason) => inner.Abort(exitCode, reason);
    public void Dispose() { }
}
