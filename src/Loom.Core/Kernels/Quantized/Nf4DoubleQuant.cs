// QLoRA's double quantization (Dettmers et al., 2023, §3 "Double Quantization"): the fp32 absmax of
// every 64-weight NF4 block is itself quantized. Over the matrix's absmaxes in order (row after row,
// as bitsandbytes flattens them): subtract their mean (the absmaxes are all positive, so centring
// lets the symmetric 8-bit code use its sign), then in blocks of 256 divide by the block's largest
// |value|, kept as one fp32 scale, and store the nearest value of the signed dynamic 8-bit code
// (DynamicMap). Scale memory per weight: 32/64 = 0.5 bit becomes 8/64 + 32/(64·256) = 0.127 bit.
//   decode: absmax_i = DynamicMap[code_i]·scale_(i/256) + offset
// Reference: tests/Loom.Core.Tests/Kernels/Quantized/Fixtures/make_double_quant_fixture.py
// (numpy, written from the paper and bitsandbytes' quantize_4bit(compress_statistics=True)).
namespace Loom.Core.Kernels.Quantized;

/// <summary>Double quantization of NF4 block scales.</summary>
public static class Nf4DoubleQuant
{
    /// <summary>Absmaxes per second-level block (one fp32 scale each), as QLoRA.</summary>
    public const int GroupSize = 256;

    /// <summary>Second-level blocks for <paramref name="count"/> absmaxes.</summary>
    public static int Groups(long count) => (int)((count + GroupSize - 1) / GroupSize);

    /// <summary>
    /// Quantizes <paramref name="absmax"/> to 8-bit <paramref name="codes"/> and one scale per 256 in
    /// <paramref name="scales"/>; returns the offset (the mean, subtracted first).
    /// </summary>
    public static float Quantize(ReadOnlySpan<float> absmax, Span<byte> codes, Span<float> scales)
    {
        if (codes.Length != absmax.Length) throw new ArgumentException($"codes has {codes.Length} bytes; {absmax.Length} absmaxes need as many.");
        if (scales.Length != Groups(absmax.Length)) throw new ArgumentException($"scales has {scales.Length} floats; {absmax.Length} absmaxes in groups of {GroupSize} need {Groups(absmax.Length)}.");
        double sum = 0;
        foreach (float a in absmax) sum += a;
        float offset = absmax.Length == 0 ? 0f : (float)(sum / absmax.Length);
        for (int g = 0; g < scales.Length; g++)
        {
            int start = g * GroupSize, n = Math.Min(GroupSize, absmax.Length - start);
            float m = 0;
            for (int i = 0; i < n; i++) m = MathF.Max(m, MathF.Abs(absmax[start + i] - offset));
            scales[g] = m;
            float inv = m > 0 ? 1f / m : 0f;
            for (int i = 0; i < n; i++) codes[start + i] = DynamicMap.Code((absmax[start + i] - offset) * inv);
        }
        return offset;
    }

    /// <summary>The absmax that code <paramref name="code"/> of group scale <paramref name="scale"/> decodes to.</summary>
    public static float Decode(byte code, float scale, float offset) => DynamicMap.Values[code] * scale + offset;
}
