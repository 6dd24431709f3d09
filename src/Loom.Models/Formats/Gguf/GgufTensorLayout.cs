// How a Loom parameter is laid out in a GGUF tensor of llama.cpp's naming (convert_hf_to_gguf.py).
namespace Loom.Models.Formats.Gguf;

/// <summary>The relation between a parameter's row-major data and its GGUF tensor.</summary>
public enum GgufTensorLayout
{
    /// <summary>The same row-major data: a PyTorch [rows, cols] weight is ggml ne = [cols, rows].</summary>
    Same,

    /// <summary>
    /// Transposed: GPT-2's Conv1D weights are (in, out) in Hugging Face's files, and the converter
    /// writes them as nn.Linear's (out, in) (GPT2Model.modify_tensors: data_torch.transpose(1, 0)).
    /// </summary>
    Transposed,

    /// <summary>
    /// Rows permuted within each head from Hugging Face's rotate-half RoPE order to ggml's interleaved
    /// pairs (convert_hf_to_gguf.py LlamaModel.permute: reshape(n_head, 2, d/2, cols).swapaxes(1, 2)).
    /// </summary>
    RotaryPermuted,
}

/// <summary>One parameter's GGUF tensor: its llama.cpp name, the Loom parameter and the layout between them.</summary>
/// <param name="GgufName">llama.cpp's name, e.g. "blk.0.attn_qkv.weight".</param>
/// <param name="ParameterName">The Loom (Hugging Face) parameter, e.g. "h.0.attn.c_attn.weight".</param>
/// <param name="Layout">How the data is rearranged between them.</param>
/// <param name="Heads">Heads for <see cref="GgufTensorLayout.RotaryPermuted"/>.</param>
/// <param name="Copy">
/// True for a second tensor of a parameter already written under another name (GPT-2's tied head as
/// output.weight): written on export; on import it must agree with the first (to within quantization) or be absent.
/// </param>
/// <param name="FallbackName">
/// For an import, the GGUF tensor to read when <paramref name="GgufName"/> is absent (Llama's output.weight
/// falls back to token_embd.weight when the embeddings are tied, as llama.cpp does).
/// </param>
public sealed record GgufTensorMap(string GgufName, string ParameterName, GgufTensorLayout Layout = GgufTensorLayout.Same, int Heads = 0, bool Copy = false, string? FallbackName = null);
