// Converts GGUF tensor bytes to and from float rows, by ggml type. F32, F16 and BF16 are handled here;
// block-quantized types go through the quantizers registered with Register (Loom.Core's BlockQuantizer
// formats, ggml's exact byte layouts), so this table grows with the formats and callers never switch
// on a type themselves.
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Loom.Core.Kernels;
using Loom.Core.Kernels.Quantized;
using Loom.Core.Tensors;

namespace Loom.Models.Formats.Gguf;

/// <summary>Float ↔ ggml bytes for the types Loom knows.</summary>
public static class GgufTensorCodec
{
    /// <summary>Bytes → floats for a whole number of rows.</summary>
    public delegate void Decode(ReadOnlySpan<byte> source, Span<float> destination);

    /// <summary>Floats → bytes for a whole number of rows of <c>rowLength</c> floats.</summary>
    public delegate void Encode(ReadOnlySpan<float> source, Span<byte> destination, int rowLength);

    private static readonly ConcurrentDictionary<GgmlType, (Decode Decode, Encode? Encode)> s_codecs = new();

    static GgufTensorCodec()
    {
        Register(GgmlType.F32, (s, d) => MemoryMarshal.Cast<byte, float>(s).CopyTo(d), (s, d, _) => MemoryMarshal.AsBytes(s).CopyTo(d));
        Register(GgmlType.F16, (s, d) => Precision.ToSingle(MemoryMarshal.Cast<byte, Half>(s), d), (s, d, _) => Precision.ToHalf(s, MemoryMarshal.Cast<byte, Half>(d)));
        Register(GgmlType.BF16, (s, d) => Precision.ToSingle(MemoryMarshal.Cast<byte, BFloat16>(s), d), (s, d, _) => Precision.ToBFloat16(s, MemoryMarshal.Cast<byte, BFloat16>(d)));
        // ggml's block formats that Loom.Core quantizes byte for byte (a block never spans two rows, so a
        // whole tensor of whole-block rows quantizes as one span).
        foreach (var (ggml, format) in QuantizedTypes)
            Register(ggml, (s, d) => BlockQuantizer.Dequantize(format, s, d), (s, d, _) => BlockQuantizer.Quantize(format, s, d));
    }

    /// <summary>The ggml types that are Loom.Core QuantFormats with ggml's exact block layout.</summary>
    public static IReadOnlyList<(GgmlType Ggml, QuantFormat Format)> QuantizedTypes { get; } =
        [(GgmlType.Q8_0, QuantFormat.Q8_0), (GgmlType.Q4_0, QuantFormat.Q4_0), (GgmlType.Q4_K, QuantFormat.Q4_K), (GgmlType.Q6_K, QuantFormat.Q6_K)];

    /// <summary>The Loom.Core format of a block-quantized ggml type, or null.</summary>
    public static QuantFormat? FormatOf(GgmlType type)
    {
        foreach (var (g, f) in QuantizedTypes) if (g == type) return f;
        return null;
    }

    /// <summary>
    /// The Loom.Core format a projection can hold a tensor of <paramref name="type"/> in without decoding it to
    /// f32: the block-quantized types (<see cref="FormatOf"/>) and F16 (half weights, widened in registers), or null.
    /// </summary>
    public static QuantFormat? ProjectionFormatOf(GgmlType type) => type == GgmlType.F16 ? QuantFormat.F16 : FormatOf(type);

    /// <summary>Adds or replaces the codec of <paramref name="type"/> (an encoder is optional: read-only types have none).</summary>
    public static void Register(GgmlType type, Decode decode, Encode? encode)
    {
        ArgumentNullException.ThrowIfNull(decode);
        s_codecs[type] = (decode, encode);
    }

    /// <summary>True when tensors of <paramref name="type"/> can be read as floats.</summary>
    public static bool CanDecode(GgmlType type) => s_codecs.ContainsKey(type);

    /// <summary>True when floats can be written as <paramref name="type"/>.</summary>
    public static bool CanEncode(GgmlType type) => s_codecs.TryGetValue(type, out var c) && c.Encode != null;

    /// <summary>Types that can be read.</summary>
    public static IEnumerable<GgmlType> Decodable => s_codecs.Keys.OrderBy(t => t);

    /// <summary>Decodes <paramref name="source"/> (bytes of <paramref name="type"/>) into floats.</summary>
    public static void ToSingle(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (!s_codecs.TryGetValue(type, out var c))
            throw new NotSupportedException($"ggml type {type} cannot be read by Loom; readable types: {string.Join(", ", Decodable)}.");
        c.Decode(source, destination);
    }

    /// <summary>Encodes <paramref name="source"/> (rows of <paramref name="rowLength"/>) as <paramref name="type"/>.</summary>
    public static void FromSingle(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination, int rowLength)
    {
        if (!s_codecs.TryGetValue(type, out var c) || c.Encode is null)
            throw new NotSupportedException($"Loom cannot write ggml type {type}; writable types: {string.Join(", ", s_codecs.Where(kv => kv.Value.Encode != null).Select(kv => kv.Key).Order())}.");
        c.Encode(source, destination, rowLength);
    }
}
