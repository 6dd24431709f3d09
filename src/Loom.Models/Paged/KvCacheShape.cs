// What one position of a causal model's key/value cache holds: per layer, keys and values of
// every key/value head (Llama's grouped-query attention has fewer K/V heads than query heads).
namespace Loom.Models.Paged;

/// <summary>Layers × K/V × kv-heads × head_dim floats per cached position.</summary>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="KvHeads">Key/value heads per layer.</param>
/// <param name="HeadDim">Floats per head.</param>
public sealed record KvCacheShape(int Layers, int KvHeads, int HeadDim)
{
    /// <summary>Floats one position takes over all layers, keys and values.</summary>
    public long FloatsPerPosition => (long)Layers * 2 * KvHeads * HeadDim;
}
