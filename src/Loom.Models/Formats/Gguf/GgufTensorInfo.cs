// One tensor's entry in a GGUF file: name, dimensions in ggml's order (ne[0] is the contiguous one,
// so a PyTorch [rows, cols] weight has ne = [cols, rows]), type, and where its bytes are.
namespace Loom.Models.Formats.Gguf;

/// <summary>A tensor info of a GGUF file.</summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long RelativeOffset, long FileOffset, long ByteCount)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape as PyTorch/safetensors write it (ne reversed): "[rows, cols]".</summary>
    public long[] RowMajorShape => Dimensions.Reverse().ToArray();

    /// <summary>"Q8_0[64, 32]" (ne order).</summary>
    public override string ToString() => $"{Name}: {Type}[{string.Join(", ", Dimensions)}]";
}
