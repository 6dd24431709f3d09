// AdamW over a model's ParameterSet, as torch.optim.AdamW with two parameter groups: weight decay
// on tensors marked WeightDecay (the matmul weights), none on norms, biases and embeddings (the
// usual GPT/nanoGPT grouping). Only trainable parameters have moments: the two moment blocks have
// the gradient block's layout (trainable tensors only), allocated once; frozen tensors are never read
// or written. Global-norm clipping follows torch.nn.utils.clip_grad_norm_ exactly.
using Loom.Core.Kernels;
using Loom.Core.Tensors;
using Loom.Core.Threading;
using Loom.Models.Parameters;

namespace Loom.Training.Optimizers;

/// <summary>AdamW hyper-parameters (PyTorch defaults except weight decay, nanoGPT's 0.1).</summary>
public sealed record AdamWOptions
{
    public float LearningRate { get; init; } = 6e-4f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    public float WeightDecay { get; init; } = 0.1f;
}

/// <summary>The AdamW optimizer state and update.</summary>
public sealed unsafe class AdamWOptimizer : IDisposable
{
    private readonly ParameterSet _parameters;
    private readonly NativeBuffer _m, _v;
    private readonly WorkerPool _pool;

    /// <summary>Updates taken so far.</summary>
    public int Step { get; private set; }

    /// <summary>Settings.</summary>
    public AdamWOptions Options { get; }

    public AdamWOptimizer(ParameterSet parameters, AdamWOptions options, WorkerPool? pool = null)
    {
        _parameters = parameters;
        Options = options;
        _pool = pool ?? WorkerPool.Shared;
        if (!parameters.HasGradients)
            throw new InvalidOperationException("Every parameter is frozen (or the model was built for inference): AdamW has nothing to update; make some parameters trainable.");
        _m = new NativeBuffer(parameters.GradientFloats * sizeof(float));
        _v = new NativeBuffer(parameters.GradientFloats * sizeof(float));
    }

    /// <summary>First and second moments, in the gradient block's layout (for checkpoints).</summary>
    public Span<float> FirstMoment => new((float*)_m.Pointer, checked((int)_parameters.GradientFloats));
    public Span<float> SecondMoment => new((float*)_v.Pointer, checked((int)_parameters.GradientFloats));

    /// <summary>Sets the step count when resuming from a checkpoint (the moments are loaded separately).</summary>
    public void Restore(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Step = step;
    }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> (from a schedule) using the current gradients.</summary>
    public void Update(float learningRate) => Update(learningRate, 1f);

    /// <summary>
    /// Applies one update using the current gradients times <paramref name="gradientScale"/> (e.g. the
    /// coefficient of <see cref="GradientClipping.Coefficient"/>), the scaling fused into the update's
    /// read of each gradient: the same numbers as scaling the gradients first, without that pass.
    /// </summary>
    public void Update(float learningRate, float gradientScale)
    {
        Step++;
        var specs = _parameters.Specs;
        var decay = new AdamWSettings(learningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay, gradientScale);
        var noDecay = decay with { WeightDecay = 0f };
        var values = _parameters.AllValues;
        var grads = _parameters.AllGradients;
        var m = FirstMoment;
        var v = SecondMoment;
        for (int i = 0; i < specs.Count; i++)
        {
            var s = specs[i];
            if (s.GradientOffset < 0) continue;   // frozen
            int off = checked((int)s.Offset), g = checked((int)s.GradientOffset), n = checked((int)s.Count);
            AdamW.Update(values.Slice(off, n), grads.Slice(g, n), m.Slice(g, n), v.Slice(g, n), s.WeightDecay ? decay : noDecay, Step, _pool);
        }
    }

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
    }
}

/// <summary>Gradient clipping by global norm.</summary>
public static class GradientClipping
{
    /// <summary>
    /// As torch.nn.utils.clip_grad_norm_: total = ‖all gradients‖₂; gradients ×= min(1, max/(total + 1e-6)).
    /// Returns the norm before clipping. The sum runs in double in a fixed order (deterministic).
    /// </summary>
    public static float ClipGlobalNorm(ParameterSet parameters, float maxNorm, WorkerPool? pool = null)
    {
        float total = GlobalNorm(parameters, pool);
        float coef = Coefficient(total, maxNorm);
        var g = parameters.AllGradients;
        if (coef < 1f) Arithmetic.Scale(g, coef, g, pool);
        return total;
    }

    /// <summary>‖all gradients‖₂, the sum of squares in double over fixed chunks (the same at any thread count).</summary>
    public static float GlobalNorm(ParameterSet parameters, WorkerPool? pool = null) =>
        // The gradient block holds the trainable tensors only, its padding always zero: one parallel
        // pass over it is the sum over tensors.
        (float)Math.Sqrt(Arithmetic.SumOfSquares(parameters.AllGradients, pool));

    /// <summary>clip_grad_norm_'s factor min(1, max/(norm + 1e-6)); pass it to <see cref="AdamWOptimizer.Update(float, float)"/> to clip without a pass over the gradients.</summary>
    public static float Coefficient(float norm, float maxNorm) => Math.Min(1f, maxNorm / (norm + 1e-6f));
}
