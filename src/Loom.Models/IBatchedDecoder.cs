// A capability a causal family may offer: batched forward passes against a paged key/value cache
// (vLLM's PagedAttention). One call runs any number of sequences, each appending its own number of
// tokens at its own position: a prompt's prefill is one call with all of its tokens, a decode step is
// one call with one token per active sequence. All rows go through each projection and the MLP as one
// (rows, C) matrix product; attention runs per row over its own sequence's blocks. Shared code asks
// for it with `model as IBatchedDecoder`, never with a family test.
using Loom.Models.Paged;

namespace Loom.Models;

/// <summary>Batched prefill and decoding over a paged KV cache.</summary>
public interface IBatchedDecoder
{
    /// <summary>What one cached position holds (sizes the <see cref="KvBlockPool"/>).</summary>
    KvCacheShape KvShape { get; }

    /// <summary>Ids the head scores.</summary>
    int VocabularySize { get; }

    /// <summary>Most positions a sequence may reach.</summary>
    int ContextLength { get; }

    /// <summary>
    /// Runs <paramref name="counts"/>[i] new tokens of sequence i (taken in order from
    /// <paramref name="tokens"/>) at positions <c>sequences[i].Length</c> onward, writes their keys and
    /// values into the sequence's blocks (reserve them first with <see cref="KvSequence.TryReserve"/>),
    /// advances each Length, and writes the next-token logits of each sequence's last new position to
    /// row i of <paramref name="logits"/>, (n_seqs, V).
    /// </summary>
    void ForwardPaged(IReadOnlyList<KvSequence> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> counts, Span<float> logits);
}
