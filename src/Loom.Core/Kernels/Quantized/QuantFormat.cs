// The block-quantized weight formats Loom reads, writes and multiplies. Four are ggml's, byte for
// byte (ggml/src/ggml-common.h: block_q8_0, block_q4_0, block_q4_K, block_q6_K), so a GGUF reader
// or writer copies their blocks unchanged; NF4 is QLoRA's 4-bit NormalFloat (Dettmers et al., 2023,
// §3) in a block layout of our own (see Nf4Blocks); F16 is plain IEEE half weights (ggml's F16 tensors), kept
// as a format so half-size weights plug into the same projection. Each format's traits row is QuantFormatInfo.
namespace Loom.Core.Kernels.Quantized;

/// <summary>A block-quantized weight format.</summary>
public enum QuantFormat
{
    /// <summary>ggml Q8_0: 32 weights = fp16 d + 32 int8 (34 bytes, 8.5 bits/weight); w = d·q.</summary>
    Q8_0,
    /// <summary>ggml Q4_0: 32 weights = fp16 d + 16 bytes of nibbles (18 bytes, 4.5 bits/weight); w = d·(q − 8).</summary>
    Q4_0,
    /// <summary>ggml Q4_K: 256 weights = fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles (144 bytes, 4.5 bits/weight).</summary>
    Q4_K,
    /// <summary>ggml Q6_K: 256 weights = 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, fp16 d (210 bytes, 6.5625 bits/weight).</summary>
    Q6_K,
    /// <summary>QLoRA NF4: 64 weights = fp32 absmax + 32 bytes of 4-bit NormalFloat codes (36 bytes, 4.5 bits/weight).</summary>
    NF4,
    /// <summary>IEEE half weights (ggml F16): 2 bytes per weight, no scale; multiplied by float activations.</summary>
    F16,
}
