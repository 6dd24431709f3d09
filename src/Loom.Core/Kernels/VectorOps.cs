// Row-level building blocks for softmax, cross-entropy, the norms, bias and attention.
// Reductions (Sum, Dot, SumSquaredDeviation, ExpShiftedSum, SumExpShifted) accumulate in 16
// lanes whatever the vector width: one Vector512 with AVX-512, two Vector256 with AVX2, four
// Vector128 with SSE, 16 floats in plain code otherwise; lane j always sums elements i ≡ j
// (mod 16) in index order, the lanes are then added in lane order and the tail last (the exp
// reductions: the tail in the lanes, see ExpShifted). So every
// SIMD path returns the same bits (tested in VectorOpsTests), and the order is fixed per input,
// which keeps results deterministic. Elementwise helpers use the widest accelerated vector.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Core.Kernels;

internal static unsafe class VectorOps
{
    private const int Lanes = 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(float* p) => Unsafe.ReadUnaligned<Vector<float>>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector<float> v) => Unsafe.WriteUnaligned(p, v);

    // Lane-order sums of the 16-lane accumulators, one per representation.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LaneSum(Vector512<float> v)
    {
        float* t = stackalloc float[Lanes];
        v.Store(t);
        return LaneSum(t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LaneSum(Vector256<float> lo, Vector256<float> hi)
    {
        float* t = stackalloc float[Lanes];
        lo.Store(t);
        hi.Store(t + 8);
        return LaneSum(t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LaneSum(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d)
    {
        float* t = stackalloc float[Lanes];
        a.Store(t);
        b.Store(t + 4);
        c.Store(t + 8);
        d.Store(t + 12);
        return LaneSum(t);
    }

    private static float LaneSum(float* t)
    {
        float s = t[0];
        for (int j = 1; j < Lanes; j++) s += t[j];
        return s;
    }

    public static float Max(float* x, int n)
    {
        int i = 0;
        float m = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var vm = Vector512.Load(x);
            for (i = Vector512<float>.Count; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) vm = Vector512.Max(vm, Vector512.Load(x + i));
            for (int j = 0; j < Vector512<float>.Count; j++) m = MathF.Max(m, vm[j]);
        }
        else if (n >= Vector<float>.Count)
        {
            int w = Vector<float>.Count;
            var vm = Load(x);
            for (i = w; i <= n - w; i += w) vm = Vector.Max(vm, Load(x + i));
            for (int j = 0; j < w; j++) m = MathF.Max(m, vm[j]);
        }
        for (; i < n; i++) m = MathF.Max(m, x[i]);
        return m;
    }

    public static float Sum(float* x, int n)
    {
        int i = 0;
        float s = 0f;
        if (n >= Lanes)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var a = Vector512<float>.Zero;
                for (; i <= n - Lanes; i += Lanes) a += Vector512.Load(x + i);
                s = LaneSum(a);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> a0 = default, a1 = default;
                for (; i <= n - Lanes; i += Lanes) { a0 += Vector256.Load(x + i); a1 += Vector256.Load(x + i + 8); }
                s = LaneSum(a0, a1);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i <= n - Lanes; i += Lanes)
                {
                    a0 += Vector128.Load(x + i); a1 += Vector128.Load(x + i + 4);
                    a2 += Vector128.Load(x + i + 8); a3 += Vector128.Load(x + i + 12);
                }
                s = LaneSum(a0, a1, a2, a3);
            }
            else
            {
                float* a = stackalloc float[Lanes];
                new Span<float>(a, Lanes).Clear();
                for (; i <= n - Lanes; i += Lanes) for (int j = 0; j < Lanes; j++) a[j] += x[i + j];
                s = LaneSum(a);
            }
        }
        for (; i < n; i++) s += x[i];
        return s;
    }

    public static float Dot(float* x, float* y, int n)
    {
        int i = 0;
        float s = 0f;
        if (n >= Lanes)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var a = Vector512<float>.Zero;
                for (; i <= n - Lanes; i += Lanes) a += Vector512.Load(x + i) * Vector512.Load(y + i);
                s = LaneSum(a);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> a0 = default, a1 = default;
                for (; i <= n - Lanes; i += Lanes)
                {
                    a0 += Vector256.Load(x + i) * Vector256.Load(y + i);
                    a1 += Vector256.Load(x + i + 8) * Vector256.Load(y + i + 8);
                }
                s = LaneSum(a0, a1);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i <= n - Lanes; i += Lanes)
                {
                    a0 += Vector128.Load(x + i) * Vector128.Load(y + i); a1 += Vector128.Load(x + i + 4) * Vector128.Load(y + i + 4);
                    a2 += Vector128.Load(x + i + 8) * Vector128.Load(y + i + 8); a3 += Vector128.Load(x + i + 12) * Vector128.Load(y + i + 12);
                }
                s = LaneSum(a0, a1, a2, a3);
            }
            else
            {
                float* a = stackalloc float[Lanes];
                new Span<float>(a, Lanes).Clear();
                for (; i <= n - Lanes; i += Lanes) for (int j = 0; j < Lanes; j++) a[j] += x[i + j] * y[i + j];
                s = LaneSum(a);
            }
        }
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary>Σ (x[i] − c)².</summary>
    public static float SumSquaredDeviation(float* x, int n, float c)
    {
        int i = 0;
        float s = 0f;
        if (n >= Lanes)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var a = Vector512<float>.Zero;
                var vc = Vector512.Create(c);
                for (; i <= n - Lanes; i += Lanes) { var d = Vector512.Load(x + i) - vc; a += d * d; }
                s = LaneSum(a);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> a0 = default, a1 = default;
                var vc = Vector256.Create(c);
                for (; i <= n - Lanes; i += Lanes)
                {
                    var d0 = Vector256.Load(x + i) - vc; a0 += d0 * d0;
                    var d1 = Vector256.Load(x + i + 8) - vc; a1 += d1 * d1;
                }
                s = LaneSum(a0, a1);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
                var vc = Vector128.Create(c);
                for (; i <= n - Lanes; i += Lanes)
                {
                    var d0 = Vector128.Load(x + i) - vc; a0 += d0 * d0;
                    var d1 = Vector128.Load(x + i + 4) - vc; a1 += d1 * d1;
                    var d2 = Vector128.Load(x + i + 8) - vc; a2 += d2 * d2;
                    var d3 = Vector128.Load(x + i + 12) - vc; a3 += d3 * d3;
                }
                s = LaneSum(a0, a1, a2, a3);
            }
            else
            {
                float* a = stackalloc float[Lanes];
                new Span<float>(a, Lanes).Clear();
                for (; i <= n - Lanes; i += Lanes) for (int j = 0; j < Lanes; j++) { float d = x[i + j] - c; a[j] += d * d; }
                s = LaneSum(a);
            }
        }
        for (; i < n; i++)
        {
            float d = x[i] - c;
            s += d * d;
        }
        return s;
    }

    /// <summary>y[i] = exp(x[i] − max) (FastMath.Exp); returns Σ y. y may equal x.</summary>
    public static float ExpShiftedSum(float* x, float* y, int n, float max) => ExpShifted(x, y, n, max, store: true);

    /// <summary>Σ exp(x[i] − max), without storing.</summary>
    public static float SumExpShifted(float* x, int n, float max) => ExpShifted(x, null, n, max, store: false);

    // The exp reductions put the tail in the lanes too (lane j sums every element i ≡ j (mod 16), a short
    // last chunk padded with exp(−∞) = 0, which adds exactly nothing): the ≤ 15 tail elements then cost
    // one vector exp instead of up to 15 scalar ones. For causal softmax rows (lengths 1..T) the scalar
    // tail was about half the work. Every path follows this order, so they still return the same bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpShifted(float* x, float* y, int n, float max, bool store)
    {
        int i = 0, main = n & ~(Lanes - 1), rem = n - main;
        float* t = stackalloc float[Lanes];   // the padded last chunk
        if (rem > 0)
        {
            for (int j = 0; j < rem; j++) t[j] = x[main + j];
            for (int j = rem; j < Lanes; j++) t[j] = float.NegativeInfinity;
        }
        float s;
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512<float>.Zero;
            var vm = Vector512.Create(max);
            for (; i < main; i += Lanes)
            {
                var e = FastMath.ExpNonPositive(Vector512.Load(x + i) - vm);
                if (store) e.Store(y + i);
                a += e;
            }
            if (rem > 0)
            {
                var e = FastMath.ExpNonPositive(Vector512.Load(t) - vm);
                e.Store(t);
                a += e;
            }
            s = LaneSum(a);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a0 = default, a1 = default;
            var vm = Vector256.Create(max);
            for (; i < main; i += Lanes)
            {
                var e0 = FastMath.Exp(Vector256.Load(x + i) - vm);
                var e1 = FastMath.Exp(Vector256.Load(x + i + 8) - vm);
                if (store) { e0.Store(y + i); e1.Store(y + i + 8); }
                a0 += e0;
                a1 += e1;
            }
            if (rem > 0)
            {
                var e0 = FastMath.Exp(Vector256.Load(t) - vm);
                var e1 = FastMath.Exp(Vector256.Load(t + 8) - vm);
                e0.Store(t); e1.Store(t + 8);
                a0 += e0;
                a1 += e1;
            }
            s = LaneSum(a0, a1);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            var vm = Vector128.Create(max);
            for (; i < main; i += Lanes)
            {
                var e0 = FastMath.Exp(Vector128.Load(x + i) - vm);
                var e1 = FastMath.Exp(Vector128.Load(x + i + 4) - vm);
                var e2 = FastMath.Exp(Vector128.Load(x + i + 8) - vm);
                var e3 = FastMath.Exp(Vector128.Load(x + i + 12) - vm);
                if (store) { e0.Store(y + i); e1.Store(y + i + 4); e2.Store(y + i + 8); e3.Store(y + i + 12); }
                a0 += e0; a1 += e1; a2 += e2; a3 += e3;
            }
            if (rem > 0)
            {
                var e0 = FastMath.Exp(Vector128.Load(t) - vm);
                var e1 = FastMath.Exp(Vector128.Load(t + 4) - vm);
                var e2 = FastMath.Exp(Vector128.Load(t + 8) - vm);
                var e3 = FastMath.Exp(Vector128.Load(t + 12) - vm);
                e0.Store(t); e1.Store(t + 4); e2.Store(t + 8); e3.Store(t + 12);
                a0 += e0; a1 += e1; a2 += e2; a3 += e3;
            }
            s = LaneSum(a0, a1, a2, a3);
        }
        else
        {
            float* a = stackalloc float[Lanes];
            new Span<float>(a, Lanes).Clear();
            for (; i < main; i += Lanes)
                for (int j = 0; j < Lanes; j++)
                {
                    float e = FastMath.Exp(x[i + j] - max);
                    if (store) y[i + j] = e;
                    a[j] += e;
                }
            if (rem > 0)
                for (int j = 0; j < Lanes; j++)
                {
                    t[j] = FastMath.Exp(t[j] - max);
                    a[j] += t[j];
                }
            s = LaneSum(a);
        }
        if (store && rem > 0)
            for (int j = 0; j < rem; j++) y[main + j] = t[j];
        return s;
    }

    /// <summary>y[i] = x[i] · a. y may equal x.</summary>
    public static void Scale(float* x, float* y, int n, float a)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) (Vector512.Load(x + i) * va).Store(y + i);
        }
        int w = Vector<float>.Count;
        var v = new Vector<float>(a);
        for (; i <= n - w; i += w) Store(y + i, Load(x + i) * v);
        for (; i < n; i++) y[i] = x[i] * a;
    }

    /// <summary>y[i] += x[i].</summary>
    public static void AddInPlace(float* y, float* x, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) (Vector512.Load(y + i) + Vector512.Load(x + i)).Store(y + i);
        int w = Vector<float>.Count;
        for (; i <= n - w; i += w) Store(y + i, Load(y + i) + Load(x + i));
        for (; i < n; i++) y[i] += x[i];
    }

    public static void Clear(float* y, int n) => new Span<float>(y, n).Clear();
}
