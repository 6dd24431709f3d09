// Mixed-precision training with fp32 master weights (Micikevicius et al. 2018, "Mixed Precision
// Training"): each step runs forward and backward on weights rounded to a 16-bit format, while the
// optimizer updates the fp32 master copy. With fp16, whose range ends at 65504 and whose smallest
// normal is 6.1e-5, the loss is multiplied by a dynamic scale so small gradients survive, the
// gradients are rounded to fp16, and a step whose gradients overflow is skipped and the scale
// halved; after GrowthInterval good steps the scale doubles (torch.cuda.amp.GradScaler's rule and
// defaults). bf16 has fp32's range, so it needs no scaling.
//
// What this is and is not, on a CPU: AVX2 has no bf16 or fp16 arithmetic, so the kernels still
// multiply in fp32; what is reproduced is the numerics of 16-bit weights and gradients (rounding,
// overflow, underflow), not a speed-up. The master copy costs 4 more bytes per parameter and the
// rounding two passes over the weights per step; docs/PERFORMANCE.md gives the measured cost.
//
// Only trainable parameters have masters and are rounded: a frozen parameter is never written by a
// step, so it keeps its fp32 value (rounding it in place would be a lossy edit the run must not make).
using System.Runtime.InteropServices;
using Loom.Core.Kernels;
using Loom.Core.Tensors;
using Loom.Models.Parameters;

using Loom.Core.Validation;

namespace Loom.Training.Precision;

/// <summary>The number format of weights and gradients during forward and backward.</summary>
public enum TrainingPrecision
{
    /// <summary>Everything fp32.</summary>
    Fp32,
    /// <summary>bf16 weights and gradients, fp32 master weights.</summary>
    Bf16,
    /// <summary>fp16 weights and gradients, fp32 master weights, dynamic loss scaling.</summary>
    Fp16,
}

/// <summary>Dynamic loss scaling settings (torch.cuda.amp.GradScaler's defaults).</summary>
public sealed record LossScalerOptions
{
    /// <summary>Starting scale, 2¹⁶.</summary>
    public float InitialScale { get; init; } = 65536f;
    /// <summary>Scale multiplier after GrowthInterval steps without overflow.</summary>
    public float GrowthFactor { get; init; } = 2f;
    /// <summary>Scale multiplier after an overflow.</summary>
    public float BackoffFactor { get; init; } = 0.5f;
    /// <summary>Good steps between growths.</summary>
    public int GrowthInterval { get; init; } = 2000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting (<paramref name="prefix"/> + its snake_case name).</summary>
    public void Validate(string prefix = "")
    {
        Setting.Positive(prefix + "initial_scale", InitialScale);
        if (!(GrowthFactor >= 1 && float.IsFinite(GrowthFactor))) throw Setting.Error(prefix + "growth_factor", GrowthFactor, "a finite number of at least 1");
        Setting.Between(prefix + "backoff_factor", BackoffFactor, 0, 1);
        Setting.AtLeast(prefix + "growth_interval", GrowthInterval, 1);
    }
}

/// <summary>Rounds weights before a step, restores the masters after it, and scales and checks fp16 gradients.</summary>
public sealed unsafe class MixedPrecision : IDisposable
{
    private const int Chunk = 16384;
    private readonly ParameterSet _parameters;
    private readonly NativeBuffer? _master;       // (trainable floats) fp32 master weights while a step runs, gradient-block layout
    private readonly ushort[] _scratch = new ushort[Chunk];
    private readonly LossScalerOptions _scaler;
    private int _goodSteps;
    private bool _inStep;

    /// <summary>The format in use.</summary>
    public TrainingPrecision Mode { get; }

    /// <summary>The factor the loss is multiplied by before backward (1 unless fp16).</summary>
    public float LossScale { get; private set; }

    /// <summary>Steps skipped because fp16 gradients overflowed.</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>Extra bytes held for the master weights.</summary>
    public long ExtraBytes => _master?.ByteLength ?? 0;

    /// <param name="parameters">The model's parameters; their values stay the fp32 masters between steps.</param>
    /// <param name="mode">Number format of forward and backward.</param>
    /// <param name="scaler">fp16 loss scaling (ignored otherwise).</param>
    public MixedPrecision(ParameterSet parameters, TrainingPrecision mode, LossScalerOptions? scaler = null)
    {
        _parameters = parameters;
        Mode = mode;
        _scaler = scaler ?? new LossScalerOptions();
        if (_scaler.InitialScale <= 0 || _scaler.GrowthFactor < 1 || _scaler.BackoffFactor <= 0 || _scaler.BackoffFactor >= 1 || _scaler.GrowthInterval < 1)
            throw new ArgumentException($"Invalid loss scaler settings: {_scaler}.");
        LossScale = mode == TrainingPrecision.Fp16 ? _scaler.InitialScale : 1f;
        if (mode != TrainingPrecision.Fp32) _master = new NativeBuffer(parameters.GradientFloats * sizeof(float));
    }

    /// <summary>Saves the fp32 masters and rounds the parameter values to the 16-bit format in place.</summary>
    public void BeginStep()
    {
        if (Mode == TrainingPrecision.Fp32) return;
        if (_inStep) throw new InvalidOperationException("BeginStep was called twice without EndStep.");
        var master = new Span<float>((float*)_master!.Pointer, checked((int)_parameters.GradientFloats));
        if (AllTrainable)
        {
            var values = _parameters.AllValues;
            values.CopyTo(master);
            Round(values);
        }
        else
        {
            var specs = _parameters.Specs;
            for (int i = 0; i < specs.Count; i++)
            {
                if (specs[i].GradientOffset < 0) continue;
                var v = _parameters.Value(i);
                v.CopyTo(master.Slice(checked((int)specs[i].GradientOffset), v.Length));
                Round(v);
            }
        }
        _inStep = true;
    }

    /// <summary>
    /// Restores the fp32 masters; for fp16 rounds the (scaled) gradients to fp16, checks them, unscales
    /// them and updates the scale. Returns false when the update must be skipped (overflow).
    /// </summary>
    public bool EndStep()
    {
        if (Mode == TrainingPrecision.Fp32) return true;
        if (!_inStep) throw new InvalidOperationException("EndStep was called without BeginStep.");
        _inStep = false;
        var master = new ReadOnlySpan<float>((float*)_master!.Pointer, checked((int)_parameters.GradientFloats));
        if (AllTrainable) master.CopyTo(_parameters.AllValues);
        else
        {
            var specs = _parameters.Specs;
            for (int i = 0; i < specs.Count; i++)
            {
                if (specs[i].GradientOffset < 0) continue;
                var v = _parameters.Value(i);
                master.Slice(checked((int)specs[i].GradientOffset), v.Length).CopyTo(v);
            }
        }
        var grads = _parameters.AllGradients;
        Round(grads);
        if (Mode == TrainingPrecision.Bf16) return true;
        bool finite = System.Numerics.Tensors.TensorPrimitives.SumOfMagnitudes(grads) is var s && float.IsFinite(s);
        if (!finite)
        {
            SkippedSteps++;
            _goodSteps = 0;
            LossScale *= _scaler.BackoffFactor;
            return false;
        }
        System.Numerics.Tensors.TensorPrimitives.Multiply(grads, 1f / LossScale, grads);
        if (++_goodSteps >= _scaler.GrowthInterval)
        {
            _goodSteps = 0;
            LossScale *= _scaler.GrowthFactor;
        }
        return true;
    }

    // With every tensor trainable the gradient block has the value block's layout: one copy each way.
    private bool AllTrainable => _parameters.GradientFloats == _parameters.Floats;

    /// <summary>Restores the scale of a resumed run.</summary>
    public void Restore(float lossScale, int skippedSteps)
    {
        if (Mode == TrainingPrecision.Fp16) LossScale = lossScale;
        SkippedSteps = skippedSteps;
    }

    // Round to the 16-bit format and back, in chunks through one reused scratch buffer.
    private void Round(Span<float> data)
    {
        var bf = MemoryMarshal.Cast<ushort, BFloat16>(_scratch.AsSpan());
        var half = MemoryMarshal.Cast<ushort, Half>(_scratch.AsSpan());
        for (int i = 0; i < data.Length; i += Chunk)
        {
            var part = data.Slice(i, Math.Min(Chunk, data.Length - i));
            if (Mode == TrainingPrecision.Bf16)
            {
                Loom.Core.Kernels.Precision.ToBFloat16(part, bf[..part.Length]);
                Loom.Core.Kernels.Precision.ToSingle(bf[..part.Length], part);
            }
            else
            {
                Loom.Core.Kernels.Precision.ToHalf(part, half[..part.Length]);
                Loom.Core.Kernels.Precision.ToSingle(half[..part.Length], part);
            }
        }
    }

    public void Dispose() => _master?.Dispose();
}
