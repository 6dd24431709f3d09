// Row-level building blocks on Vector<float>, which is 256-bit with AVX2, 128-bit with SSE only
// (DOTNET_EnableAVX2=0) and a software 128-bit type with DOTNET_EnableHWIntrinsic=0, so one
// source covers every tier. Reductions use fixed lane order: deterministic for a given machine.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Core.Kernels;

internal static unsafe class VectorOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(float* p) => Unsafe.ReadUnaligned<Vector<float>>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector<float> v) => Unsafe.WriteUnaligned(p, v);

    public static float Max(float* x, int n)
    {
        int w = Vector<float>.Count, i = 0;
        float m = float.NegativeInfinity;
        if (n >= w)
        {
            var vm = Load(x);
            for (i = w; i <= n - w; i += w) vm = Vector.Max(vm, Load(x + i));
            for (int j = 0; j < w; j++) m = MathF.Max(m, vm[j]);
        }
        for (; i < n; i++) m = MathF.Max(m, x[i]);
        return m;
    }

    public static float Sum(float* x, int n)
    {
        int w = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        for (; i <= n - w; i += w) acc += Load(x + i);
        float s = Vector.Sum(acc);
        for (; i < n; i++) s += x[i];
        return s;
    }

    public static float Dot(float* x, float* y, int n)
    {
        int w = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        for (; i <= n - w; i += w) acc += Load(x + i) * Load(y + i);
        float s = Vector.Sum(acc);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary>Σ (x[i] − c)².</summary>
    public static float SumSquaredDeviation(float* x, int n, float c)
    {
        int w = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        var vc = new Vector<float>(c);
        for (; i <= n - w; i += w)
        {
            var d = Load(x + i) - vc;
            acc += d * d;
        }
        float s = Vector.Sum(acc);
        for (; i < n; i++)
        {
            float d = x[i] - c;
            s += d * d;
        }
        return s;
    }

    /// <summary>y[i] = exp(x[i] − max); returns Σ y. y may equal x.</summary>
    public static float ExpShiftedSum(float* x, float* y, int n, float max)
    {
        int w = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        var vmax = new Vector<float>(max);
        for (; i <= n - w; i += w)
        {
            var e = FastMath.Exp(Load(x + i) - vmax);
            Store(y + i, e);
            acc += e;
        }
        float s = Vector.Sum(acc);
        for (; i < n; i++)
        {
            float e = FastMath.Exp(x[i] - max);
            y[i] = e;
            s += e;
        }
        return s;
    }

    /// <summary>Σ exp(x[i] − max), without storing.</summary>
    public static float SumExpShifted(float* x, int n, float max)
    {
        int w = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        var vmax = new Vector<float>(max);
        for (; i <= n - w; i += w) acc += FastMath.Exp(Load(x + i) - vmax);
        float s = Vector.Sum(acc);
        for (; i < n; i++) s += FastMath.Exp(x[i] - max);
        return s;
    }

    /// <summary>y[i] = x[i] · a. y may equal x.</summary>
    public static void Scale(float* x, float* y, int n, float a)
    {
        int w = Vector<float>.Count, i = 0;
        var va = new Vector<float>(a);
        for (; i <= n - w; i += w) Store(y + i, Load(x + i) * va);
        for (; i < n; i++) y[i] = x[i] * a;
    }

    /// <summary>y[i] += x[i].</summary>
    public static void AddInPlace(float* y, float* x, int n)
    {
        int w = Vector<float>.Count, i = 0;
        for (; i <= n - w; i += w) Store(y + i, Load(y + i) + Load(x + i));
        for (; i < n; i++) y[i] += x[i];
    }

    public static void Clear(float* y, int n) => new Span<float>(y, n).Clear();
}
