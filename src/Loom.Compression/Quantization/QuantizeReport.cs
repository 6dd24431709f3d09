// What a quantization wrote, for the CLI's summary and for tests.
using Loom.Core.Kernels.Quantized;

namespace Loom.Compression.Quantization;

/// <summary>The outcome of <see cref="ModelQuantizer.Quantize"/>.</summary>
public sealed record QuantizeReport(
    QuantFormat Format,
    int QuantizedTensors,
    long QuantizedWeights,
    long QuantizedBytes,
    IReadOnlyList<string> KeptFloat,
    long FloatBytes,
    long FileBytes)
{
    /// <summary>SpQR outliers kept in fp16 over all tensors (their bytes are in QuantizedBytes).</summary>
    public long Outliers { get; init; }

    /// <summary>Calibration windows the outlier saliency used (0: none).</summary>
    public int CalibrationWindows { get; init; }

    /// <summary>Bits per quantized weight, scales included.</summary>
    public double BitsPerWeight => QuantizedWeights == 0 ? 0 : 8.0 * QuantizedBytes / QuantizedWeights;
}
