// Element types a tensor can hold. Plain types have a block of one element; quantized block
// formats (ggml's Q8_0, Q4_K, ...) arrive later as dtypes whose block holds many elements in a
// fixed number of bytes, so every size computation here already goes through blocks.
namespace Loom.Core.Tensors;

/// <summary>The element type of a tensor.</summary>
public enum DType : byte
{
    /// <summary>IEEE 754 binary32.</summary>
    F32,
    /// <summary>bfloat16: the top 16 bits of a binary32 (8-bit exponent, 7-bit mantissa).</summary>
    BF16,
    /// <summary>IEEE 754 binary16.</summary>
    F16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Signed 32-bit integer (token ids, indices).</summary>
    I32,
}

/// <summary>Sizes and names of <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Number of elements that one storage block holds (1 for every plain type).</summary>
    public static int BlockElements(this DType dtype) => dtype switch
    {
        DType.F32 or DType.BF16 or DType.F16 or DType.I8 or DType.I32 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>Bytes taken by one storage block.</summary>
    public static int BlockBytes(this DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.BF16 or DType.F16 => 2,
        DType.I8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>Bytes needed for <paramref name="elements"/> elements; the count must fill whole blocks.</summary>
    public static long ByteCount(this DType dtype, long elements)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        int block = dtype.BlockElements();
        if (elements % block != 0)
            throw new ArgumentException($"{dtype} stores elements in blocks of {block}; {elements} elements is not a whole number of blocks.", nameof(elements));
        return elements / block * dtype.BlockBytes();
    }

    /// <summary>The lower-case name used in file formats and messages (f32, bf16, ...).</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.F32 => "f32",
        DType.BF16 => "bf16",
        DType.F16 => "f16",
        DType.I8 => "i8",
        DType.I32 => "i32",
        _ => dtype.ToString(),
    };

    /// <summary>The dtype whose storage matches the CLR type <typeparamref name="T"/>.</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.F32;
        if (typeof(T) == typeof(BFloat16)) return DType.BF16;
        if (typeof(T) == typeof(Half)) return DType.F16;
        if (typeof(T) == typeof(sbyte)) return DType.I8;
        if (typeof(T) == typeof(int)) return DType.I32;
        throw new NotSupportedException($"No Loom dtype stores {typeof(T).Name}; use float, BFloat16, Half, sbyte or int.");
    }
}
