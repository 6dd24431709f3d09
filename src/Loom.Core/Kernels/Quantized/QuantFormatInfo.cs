// The traits row of each quantized format (ggml's type_traits: block size, bytes per block), and the
// names the CLI and config files use for them.
namespace Loom.Core.Kernels.Quantized;

/// <summary>Block size, block bytes and name of a <see cref="QuantFormat"/>.</summary>
public static class QuantFormatInfo
{
    /// <summary>ggml's QK_K: weights per k-quant super-block.</summary>
    public const int SuperBlock = 256;

    /// <summary>Weights per block.</summary>
    public static int BlockSize(QuantFormat format) => format switch
    {
        QuantFormat.Q8_0 or QuantFormat.Q4_0 => 32,
        QuantFormat.Q4_K or QuantFormat.Q6_K => SuperBlock,
        QuantFormat.NF4 => 64,
        QuantFormat.F16 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown quantized format."),
    };

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(QuantFormat format) => format switch
    {
        QuantFormat.Q8_0 => 2 + 32,
        QuantFormat.Q4_0 => 2 + 16,
        QuantFormat.Q4_K => 2 + 2 + 12 + 128,
        QuantFormat.Q6_K => 128 + 64 + 16 + 2,
        QuantFormat.NF4 => 4 + 32,
        QuantFormat.F16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown quantized format."),
    };

    /// <summary>Bits per weight, scales included.</summary>
    public static double BitsPerWeight(QuantFormat format) => 8.0 * BlockBytes(format) / BlockSize(format);

    /// <summary>Bytes of a row of <paramref name="n"/> weights; <paramref name="n"/> must be a multiple of the block size.</summary>
    public static long RowBytes(QuantFormat format, long n)
    {
        int bs = BlockSize(format);
        if (n < 0 || n % bs != 0)
            throw new ArgumentException($"A {Name(format)} row holds whole blocks of {bs} weights; {n} is not a multiple of {bs}.");
        return n / bs * BlockBytes(format);
    }

    /// <summary>The lower-case name used by the CLI, config files and GGUF tooling: q8_0, q4_0, q4_k, q6_k, nf4, f16.</summary>
    public static string Name(QuantFormat format) => format switch
    {
        QuantFormat.Q8_0 => "q8_0",
        QuantFormat.Q4_0 => "q4_0",
        QuantFormat.Q4_K => "q4_k",
        QuantFormat.Q6_K => "q6_k",
        QuantFormat.NF4 => "nf4",
        QuantFormat.F16 => "f16",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown quantized format."),
    };

    /// <summary>True for the formats whose dot products quantize the activations to 8 bits (ggml's int8 formats); NF4 and F16 take floats.</summary>
    public static bool UsesQ8Activations(QuantFormat format) => format is QuantFormat.Q8_0 or QuantFormat.Q4_0 or QuantFormat.Q4_K or QuantFormat.Q6_K;

    /// <summary>Every format, in declaration order.</summary>
    public static IReadOnlyList<QuantFormat> All { get; } = Enum.GetValues<QuantFormat>();

    /// <summary>Parses a name as <see cref="Name"/> writes it (case-insensitive); false when unknown.</summary>
    public static bool TryParse(string? name, out QuantFormat format)
    {
        foreach (var f in All)
            if (string.Equals(Name(f), name, StringComparison.OrdinalIgnoreCase)) { format = f; return true; }
        format = default;
        return false;
    }

    /// <summary>Parses a name or throws naming the accepted ones.</summary>
    public static QuantFormat Parse(string? name, string what = "quantization type") =>
        TryParse(name, out var f) ? f
            : throw new ArgumentException($"{what} \"{name}\" is not known; use one of {string.Join(", ", All.Select(Name))}.");
}
