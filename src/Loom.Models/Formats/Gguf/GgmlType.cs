// ggml's tensor types as GGUF stores them (ggml/include/ggml.h enum ggml_type; gguf-py constants.py
// GGMLQuantizationType and GGML_QUANT_SIZES). A type is data: its id, the weights per block and the
// bytes per block; a tensor's row of ne[0] weights is ne[0] / BlockSize blocks. Which of these Loom
// can convert to and from float is GgufTensorCodec's business, not this table's.
namespace Loom.Models.Formats.Gguf;

/// <summary>ggml tensor types by their numeric id in a GGUF tensor info.</summary>
public enum GgmlType : uint
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35,
}

/// <summary>Block size and bytes per block of each <see cref="GgmlType"/> (gguf-py GGML_QUANT_SIZES).</summary>
public static class GgmlTypes
{
    private const int QK_K = 256;

    /// <summary>(weights per block, bytes per block) of <paramref name="type"/>, or null for an id ggml does not define.</summary>
    public static (int BlockSize, int BlockBytes)? Size(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 => (1, 2),
        GgmlType.Q4_0 => (32, 2 + 16),
        GgmlType.Q4_1 => (32, 2 + 2 + 16),
        GgmlType.Q5_0 => (32, 2 + 4 + 16),
        GgmlType.Q5_1 => (32, 2 + 2 + 4 + 16),
        GgmlType.Q8_0 => (32, 2 + 32),
        GgmlType.Q8_1 => (32, 4 + 4 + 32),
        GgmlType.Q2_K => (QK_K, 2 + 2 + QK_K / 16 + QK_K / 4),
        GgmlType.Q3_K => (QK_K, 2 + QK_K / 4 + QK_K / 8 + 12),
        GgmlType.Q4_K => (QK_K, 2 + 2 + QK_K / 2 + 12),
        GgmlType.Q5_K => (QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12),
        GgmlType.Q6_K => (QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16),
        GgmlType.Q8_K => (QK_K, 4 + QK_K + QK_K / 8),
        GgmlType.IQ2_XXS => (QK_K, 2 + QK_K / 4),
        GgmlType.IQ2_XS => (QK_K, 2 + QK_K / 4 + QK_K / 32),
        GgmlType.IQ3_XXS => (QK_K, 2 + QK_K / 4 + QK_K / 8),
        GgmlType.IQ1_S => (QK_K, 2 + QK_K / 8 + QK_K / 16),
        GgmlType.IQ4_NL => (32, 2 + 16),
        GgmlType.IQ3_S => (QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4),
        GgmlType.IQ2_S => (QK_K, 2 + QK_K / 4 + QK_K / 16),
        GgmlType.IQ4_XS => (QK_K, 2 + 2 + QK_K / 2 + QK_K / 64),
        GgmlType.I8 => (1, 1),
        GgmlType.I16 => (1, 2),
        GgmlType.I32 => (1, 4),
        GgmlType.I64 => (1, 8),
        GgmlType.F64 => (1, 8),
        GgmlType.IQ1_M => (QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),
        GgmlType.BF16 => (1, 2),
        GgmlType.TQ1_0 => (QK_K, 2 + 4 * 13),
        GgmlType.TQ2_0 => (QK_K, 2 + 64),
        _ => null,
    };

    /// <summary>Bytes of a tensor of <paramref name="type"/> with dimensions <paramref name="ne"/> (ne[0] a whole number of blocks).</summary>
    public static long ByteCount(GgmlType type, ReadOnlySpan<long> ne)
    {
        var (block, bytes) = Size(type) ?? throw new ArgumentException($"ggml type id {(uint)type} is unknown.");
        if (ne.Length == 0) return bytes;
        if (ne[0] % block != 0) throw new ArgumentException($"a {type} row holds whole blocks of {block} weights; ne[0] = {ne[0]}.");
        long n = checked(ne[0] / block * bytes);
        for (int i = 1; i < ne.Length; i++) n = checked(n * ne[i]);
        return n;
    }
}
