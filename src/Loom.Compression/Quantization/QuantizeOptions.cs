// What `loom quantize` (ModelQuantizer) does to a model: the block format and which weights it takes.
using Loom.Core.Kernels.Quantized;

namespace Loom.Compression.Quantization;

/// <summary>Settings of a model quantization.</summary>
public sealed record QuantizeOptions
{
    /// <summary>Block format of the projection weights (default q8_0).</summary>
    public QuantFormat Format { get; init; } = QuantFormat.Q8_0;

    /// <summary>
    /// Also quantize an untied output head (Llama's lm_head). Off by default: embeddings, norms, biases
    /// and the head stay f32 (a tied head is the embedding and always stays).
    /// </summary>
    public bool QuantizeHead { get; init; }

    /// <summary>
    /// NF4 only: double-quantize the fp32 block absmaxes to 8 bits in groups of 256 (QLoRA §3),
    /// 4.127 instead of 4.5 bits/weight. Off by default.
    /// </summary>
    public bool DoubleQuant { get; init; }

    /// <summary>
    /// Fraction of each projection's weights kept as fp16 SpQR outliers (0 = none, the default; e.g.
    /// 0.01), chosen by (w − q(w))²·‖X_j‖² on <see cref="CalibrationFile"/>'s text (see SpqrOutliers).
    /// </summary>
    public double OutlierFraction { get; init; }

    /// <summary>Text whose activations weigh the outlier saliency (null: ‖X_j‖ = 1, the plain weight error).</summary>
    public string? CalibrationFile { get; init; }

    /// <summary>Calibration windows of the model's context length spread over the file (default 64).</summary>
    public int Samples { get; init; } = 64;

    /// <summary>Checks the settings; the message names the option to fix.</summary>
    public void Validate()
    {
        if (DoubleQuant && Format != QuantFormat.NF4)
            throw new ArgumentException($"--double-quant applies to nf4 only (it quantizes NF4's fp32 block absmaxes); --type is {QuantFormatInfo.Name(Format)}.");
        if (!(OutlierFraction >= 0 && OutlierFraction < 0.5))
            throw new ArgumentException($"--outliers {OutlierFraction} is outside [0, 0.5); give the fraction of weights kept in fp16, e.g. 0.01.");
        if (Samples < 1) throw new ArgumentException($"--samples {Samples} must be at least 1.");
    }
}
