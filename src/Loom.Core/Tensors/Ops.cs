// Tensor-level entry points: they check shapes and dtypes, name both shapes when they disagree,
// and call the span kernels. Models use these where a shape check is worth its few nanoseconds.
using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Core.Tensors;

/// <summary>Shape-checked operations on <see cref="TensorView"/>s.</summary>
public static class Ops
{
    /// <summary>y[..., n] = x[..., k] · weight[n, k]ᵀ (+ bias[n]).</summary>
    public static void Linear(TensorView x, TensorView weight, TensorView? bias, TensorView y, WorkerPool? pool = null)
    {
        RequireF32(x, nameof(x)); RequireF32(weight, nameof(weight)); RequireF32(y, nameof(y));
        if (weight.Rank != 2) throw new ArgumentException($"Linear: weight must be 2-D (out, in) but has shape {weight.Shape}.");
        int k = weight.Shape[1], n = weight.Shape[0];
        if (x.Rank < 1 || x.Shape[-1] != k)
            throw new ArgumentException($"Linear: x has shape {x.Shape} but weight has shape {weight.Shape}; the last axis of x must be {k}.");
        int m = checked((int)(x.ElementCount / k));
        if (y.Shape[-1] != n || y.ElementCount != (long)m * n)
            throw new ArgumentException($"Linear: y has shape {y.Shape} but x {x.Shape} · weight {weight.Shape}ᵀ gives [..., {n}] with {(long)m * n} elements.");
        ReadOnlySpan<float> b = default;
        if (bias is { } bv)
        {
            RequireF32(bv, nameof(bias));
            if (bv.Rank != 1 || bv.Shape[0] != n)
                throw new ArgumentException($"Linear: bias has shape {bv.Shape} but weight has shape {weight.Shape}; bias must be [{n}].");
            b = bv.AsSpan<float>();
        }
        Kernels.Linear.Forward(x.AsSpan<float>(), weight.AsSpan<float>(), b, y.AsSpan<float>(), m, k, n, pool);
    }

    /// <summary>c = op(a)·op(b) for 2-D operands, or batched over axis 0 for 3-D operands.</summary>
    public static void MatMul(TensorView a, TensorView b, TensorView c, Transpose transA = Transpose.No, Transpose transB = Transpose.No, WorkerPool? pool = null)
    {
        RequireF32(a, nameof(a)); RequireF32(b, nameof(b)); RequireF32(c, nameof(c));
        if (a.Rank != b.Rank || a.Rank != c.Rank || a.Rank is < 2 or > 3)
            throw new ArgumentException($"MatMul: a {a.Shape}, b {b.Shape} and c {c.Shape} must all be 2-D or all 3-D.");
        int batch = a.Rank == 3 ? a.Shape[0] : 1;
        if (a.Rank == 3 && (b.Shape[0] != batch || c.Shape[0] != batch))
            throw new ArgumentException($"MatMul: batch sizes differ: a {a.Shape}, b {b.Shape}, c {c.Shape}.");
        int ar = a.Shape[-2], ac = a.Shape[-1], br = b.Shape[-2], bc = b.Shape[-1];
        int m = transA == Transpose.No ? ar : ac, k = transA == Transpose.No ? ac : ar;
        int kb = transB == Transpose.No ? br : bc, n = transB == Transpose.No ? bc : br;
        if (k != kb)
            throw new ArgumentException($"MatMul: a has shape {a.Shape} and b has shape {b.Shape}; the inner dimensions {k} and {kb} must match.");
        if (c.Shape[-2] != m || c.Shape[-1] != n)
            throw new ArgumentException($"MatMul: c has shape {c.Shape} but the product of a {a.Shape} and b {b.Shape} is {m}×{n}.");
        Gemm.SgemmBatched(transA, transB, m, n, k, 1f, a.AsSpan<float>(), ac, (long)ar * ac, b.AsSpan<float>(), bc, (long)br * bc,
            0f, c.AsSpan<float>(), n, (long)m * n, batch, pool);
    }

    /// <summary>Throws unless <paramref name="a"/> and <paramref name="b"/> have the same shape.</summary>
    public static void RequireSameShape(TensorView a, TensorView b, string nameA, string nameB)
    {
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{nameA} has shape {a.Shape} but {nameB} has shape {b.Shape}; they must be equal.");
    }

    /// <summary>y = gelu(x), shapes must match.</summary>
    public static void Gelu(TensorView x, TensorView y, WorkerPool? pool = null)
    {
        RequireSameShape(x, y, nameof(x), nameof(y));
        Activations.GeluForward(x.AsSpan<float>(), y.AsSpan<float>(), pool);
    }

    private static void RequireF32(TensorView t, string name)
    {
        if (t.DType != DType.F32)
            throw new ArgumentException($"{name} holds {t.DType.Name()} elements; this operation needs f32 (convert with Precision.ToSingle first).");
    }
}
