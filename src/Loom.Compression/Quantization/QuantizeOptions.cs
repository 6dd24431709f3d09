// What `loom quantize` (ModelQuantizer) does to a model: the block format and which weights it takes.
using Loom.Core.Kernels.Quantized;

namespace Loom.Compression.Quantization;

/// <summary>Settings of a model quantization.</summary>
public sealed record QuantizeOptions
{
    /// <summary>Block format of the projection weights (default q8_0).</summary>
    public QuantFormat Format { get; init; } = QuantFormat.Q8_0;

    /// <summary>
    /// Also quantize an untied output head (Llama's lm_head). Off by default: embeddings, norms, biases
    /// and the head stay f32 (a tied head is the embedding and always stays).
    /// </summary>
    public bool QuantizeHead { get; init; }
}
