// LoRA (Hu et al. 2021, §4.1): h = W₀x + (α/r)·B·A·dropout(x), wrapping the model's own projection,
// whose weight stays frozen. A (r × in) and B (out × r) are tensors of the model's ParameterSet
// (named "<path>.lora_A.weight", "<path>.lora_B.weight"), so they get gradients, optimizer moments
// and checkpoints like any trainable tensor. The low-rank path is the same for both weight layouts:
// PEFT keeps lora_A/lora_B as nn.Linear even around GPT-2's Conv1D (peft/tuners/lora/layer.py,
// Linear.forward); fan_in_fan_out matters only when merging (LoraAdapters.Merge).
//
// The four small GEMMs, u = x·Aᵀ (rows × r) recomputed in Backward rather than kept per call:
//   forward:  u = drop(x)·Aᵀ;  y += s·u·Bᵀ
//   backward: dB += s·dyᵀ·u;  du = s·dy·B;  dA += duᵀ·drop(x);  dx += drop'(du·A)
// Dropout masks are drawn from (seed, step, path) so Backward redraws the mask Forward used; in
// evaluation mode (the default) dropout is the identity, as nn.Dropout in model.eval().
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Models.Adapters;

/// <summary>A frozen base projection plus a trainable low-rank update (α/r)·B·A.</summary>
public sealed class LoraProjection : IProjection
{
    private readonly IProjection _base;
    private readonly ParameterSet _p;
    private readonly WorkerPool _pool;
    private readonly int _a, _b, _r, _in, _out;
    private readonly LoraRuntime _runtime;
    private readonly ulong _pathHash;
    private float[] _u = [];     // (rows, r) scratch, grown to the largest row count seen
    private float[] _du = [];    // (rows, r)
    private float[] _xd = [];    // (rows, in) dropped-out input, only with dropout in training mode

    /// <summary>The rank r.</summary>
    public int Rank => _r;

    /// <summary>α/r (α/√r with rsLoRA).</summary>
    public float Scaling { get; }

    /// <summary>Index of lora_A (r × in) in the model's ParameterSet.</summary>
    public int AIndex => _a;

    /// <summary>Index of lora_B (out × r) in the model's ParameterSet.</summary>
    public int BIndex => _b;

    /// <summary>The wrapped projection.</summary>
    public IProjection Base => _base;

    /// <inheritdoc/>
    public ProjectionSpec Spec => _base.Spec;

    /// <summary>Wraps <paramref name="baseProjection"/> with A and B at the given indexes of <paramref name="parameters"/>.</summary>
    public LoraProjection(IProjection baseProjection, ParameterSet parameters, int aIndex, int bIndex, float scaling, LoraRuntime runtime, WorkerPool? pool = null)
    {
        _base = baseProjection;
        _p = parameters;
        _a = aIndex;
        _b = bIndex;
        _in = Spec.InFeatures;
        _out = Spec.OutFeatures;
        var sa = parameters.Specs[aIndex].Shape;
        var sb = parameters.Specs[bIndex].Shape;
        if (sa.Length != 2 || sa[1] != _in)
            throw new ArgumentException($"{Spec.Path}: lora_A has shape [{string.Join(", ", sa)}]; the projection has {_in} inputs, so it must be [r, {_in}].");
        _r = (int)sa[0];
        if (sb.Length != 2 || sb[0] != _out || sb[1] != _r)
            throw new ArgumentException($"{Spec.Path}: lora_B has shape [{string.Join(", ", sb)}]; with r = {_r} and {_out} outputs it must be [{_out}, {_r}].");
        Scaling = scaling;
        _runtime = runtime;
        _pool = pool ?? WorkerPool.Shared;
        _pathHash = Fnv1a(Spec.Path);
    }

    private bool Dropping => _runtime.Training && _runtime.Dropout > 0;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false)
    {
        _base.Forward(x, y, rows, accumulate);
        if (!_runtime.Enabled) return;
        ReadOnlySpan<float> xin = Dropping ? DropInput(x, rows, _runtime.Step) : x;
        Span<float> u = Scratch(ref _u, rows * _r);
        Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, _r, _in, 1f, xin, _in, _p.Value(_a), _in, 0f, u, _r, _pool);
        Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, _out, _r, Scaling, u, _r, _p.Value(_b), _r, 1f, y, _out, _pool);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false)
    {
        _base.Backward(dy, x, dx, rows, accumulateInput);
        if (!_runtime.Enabled) return;
        // Forward drew its mask at step s; the trainer advances the step after Backward, so it is the same s.
        bool dropping = Dropping;
        ReadOnlySpan<float> xin = dropping ? DropInput(x, rows, _runtime.Step) : x;
        ReadOnlySpan<float> a = _p.Value(_a), b = _p.Value(_b);
        Span<float> u = Scratch(ref _u, rows * _r), du = Scratch(ref _du, rows * _r);
        bool trainA = _p.IsTrainable(_a), trainB = _p.IsTrainable(_b);
        if (trainB)
        {
            Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, _r, _in, 1f, xin, _in, a, _in, 0f, u, _r, _pool);
            Gemm.Sgemm(Transpose.Yes, Transpose.No, _out, _r, rows, Scaling, dy, _out, u, _r, 1f, _p.Gradient(_b), _r, _pool);
        }
        if (!trainA && dx.IsEmpty) return;
        Gemm.Sgemm(Transpose.No, Transpose.No, rows, _r, _out, Scaling, dy, _out, b, _r, 0f, du, _r, _pool);
        if (trainA) Gemm.Sgemm(Transpose.Yes, Transpose.No, _r, _in, rows, 1f, du, _r, xin, _in, 1f, _p.Gradient(_a), _in, _pool);
        if (dx.IsEmpty) return;
        if (!dropping)
        {
            Gemm.Sgemm(Transpose.No, Transpose.No, rows, _in, _r, 1f, du, _r, a, _in, 1f, dx, _in, _pool);
            return;
        }
        // Through the mask: dx += mask ⊙ (du·A) / (1 − p); _xd is free again and holds du·A.
        Span<float> t = Scratch(ref _xd, rows * _in);
        Gemm.Sgemm(Transpose.No, Transpose.No, rows, _in, _r, 1f, du, _r, a, _in, 0f, t, _in, _pool);
        float keep = 1f / (1f - _runtime.Dropout);
        ulong state = Seed(_runtime.Step);
        for (int i = 0; i < t.Length; i++)
            if (NextUniform(ref state) >= _runtime.Dropout) dx[i] += t[i] * keep;
    }

    // x ⊙ mask / (1 − p), the mask a function of (seed, step, path, element) only.
    private ReadOnlySpan<float> DropInput(ReadOnlySpan<float> x, int rows, ulong step)
    {
        Span<float> d = Scratch(ref _xd, rows * _in);
        float p = _runtime.Dropout, keep = 1f / (1f - p);
        ulong state = Seed(step);
        for (int i = 0; i < d.Length; i++) d[i] = NextUniform(ref state) >= p ? x[i] * keep : 0f;
        return d;
    }

    private ulong Seed(ulong step) => SplitMix((ulong)_runtime.Seed * 0x9E3779B97F4A7C15UL ^ step * 0xBF58476D1CE4E5B9UL ^ _pathHash);

    private static ulong SplitMix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static float NextUniform(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return (SplitMix(state) >> 40) * (1f / (1 << 24));
    }

    private static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }

    private static Span<float> Scratch(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];   // grows once per new largest shape, never per step
        return buffer.AsSpan(0, length);
    }

    public void Dispose() => _base.Dispose();
}
