// A capability a causal family may offer: decoding one token at a time against a key/value cache.
// Shared code asks for it (`model as IIncrementalDecoder`) instead of testing for a family.
namespace Loom.Models;

/// <summary>The cached keys and values of one sequence.</summary>
public interface IDecoderCache : IDisposable
{
    /// <summary>Most positions the cache holds.</summary>
    int Capacity { get; }
    /// <summary>Positions cached so far.</summary>
    int Length { get; }
    /// <summary>Forgets the cached positions (the memory is reused).</summary>
    void Clear();
}

/// <summary>Single-position decoding with a KV cache.</summary>
public interface IIncrementalDecoder
{
    /// <summary>A cache for one sequence of up to <paramref name="capacity"/> positions (default: the context length).</summary>
    IDecoderCache CreateDecoderCache(int? capacity = null);

    /// <summary>Runs <paramref name="token"/> at position <c>cache.Length</c>, appends it, returns the next-token logits (valid until the next call).</summary>
    ReadOnlySpan<float> DecodeNext(IDecoderCache cache, int token);
}
