// The file types `loom export gguf --type` writes, with llama.cpp's general.file_type ids
// (llama.h llama_ftype / gguf-py LlamaFileType) and the ggml type of the block matrices.
namespace Loom.Models.Formats.Gguf;

/// <summary>Export types: the default tensor type of a GGUF file.</summary>
public enum GgufFileType
{
    F32, F16, Q8_0, Q4_0, Q4_K, Q6_K,
}

/// <summary>ids and tensor types of <see cref="GgufFileType"/>.</summary>
public static class GgufFileTypes
{
    /// <summary>general.file_type: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, MOSTLY_Q4_K_S 14, MOSTLY_Q6_K 18.</summary>
    public static uint Id(GgufFileType t) => t switch
    {
        GgufFileType.F32 => 0, GgufFileType.F16 => 1, GgufFileType.Q4_0 => 2, GgufFileType.Q8_0 => 7,
        GgufFileType.Q4_K => 14, GgufFileType.Q6_K => 18,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>The ggml type of the file's block matrices.</summary>
    public static GgmlType TensorType(GgufFileType t) => t switch
    {
        GgufFileType.F32 => GgmlType.F32, GgufFileType.F16 => GgmlType.F16, GgufFileType.Q8_0 => GgmlType.Q8_0,
        GgufFileType.Q4_0 => GgmlType.Q4_0, GgufFileType.Q4_K => GgmlType.Q4_K, GgufFileType.Q6_K => GgmlType.Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Parses "f32", "q4_k", ... (case-insensitive); null when unknown.</summary>
    public static GgufFileType? Parse(string s) => s.ToLowerInvariant() switch
    {
        "f32" => GgufFileType.F32, "f16" => GgufFileType.F16, "q8_0" => GgufFileType.Q8_0,
        "q4_0" => GgufFileType.Q4_0, "q4_k" => GgufFileType.Q4_K, "q6_k" => GgufFileType.Q6_K,
        _ => null,
    };
}
