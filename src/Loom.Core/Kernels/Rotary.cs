// Rotary position embeddings (Su et al. 2021, RoFormer) in Hugging Face's rotate_half layout:
// for i < d/2 the pair (x_i, x_{i+d/2}) at position t is rotated by the angle t·θ_i,
// θ_i = base^(−2i/d):   x_i' = x_i cos − x_{i+d/2} sin;   x_{i+d/2}' = x_{i+d/2} cos + x_i sin.
// The backward of a rotation is the rotation by −angle. Scaling (for context extension):
//   linear (Chen et al. 2023, position interpolation): t → t / factor;
//   dynamic NTK (HF "dynamic"): once the sequence exceeds the trained length L, the base becomes
//   base·((factor·T/L) − (factor − 1))^(d/(d−2)).
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>How positions are scaled before the rotation.</summary>
public readonly record struct RopeScaling(string Type = "none", float Factor = 1f);

/// <summary>Rotary position embeddings.</summary>
public static unsafe class Rotary
{
    /// <summary>cos and sin tables (positions, d/2) for positions [0, positions).</summary>
    public static void Tables(int positions, int headDim, float theta, RopeScaling scaling, int trainedLength, Span<float> cos, Span<float> sin)
    {
        int half = CheckHalf(headDim);
        if (cos.Length < positions * half || sin.Length < positions * half) throw new ArgumentException($"cos/sin need {positions * half} elements.");
        var (baseTheta, posScale) = Frequencies(positions, headDim, theta, scaling, trainedLength);
        for (int i = 0; i < half; i++)
        {
            // Computed as PyTorch does: inv_freq in float32, then position · inv_freq in float32.
            float invFreq = (float)(1.0 / Math.Pow(baseTheta, 2.0 * i / headDim));
            for (int t = 0; t < positions; t++)
            {
                float angle = (float)(t * posScale) * invFreq;
                cos[t * half + i] = MathF.Cos(angle);
                sin[t * half + i] = MathF.Sin(angle);
            }
        }
    }

    /// <summary>
    /// Row r of the (<paramref name="window"/>, d/2) tables <see cref="Tables"/> would build, for each
    /// r = <paramref name="positions"/>[k], written to row k of cos and sin (k, d/2) — bit for bit the same
    /// values. A decode step needs only its new rows' positions: building the whole window's tables was
    /// O(context) sines and cosines per token (≈ 64K for TinyLlama at 1,000 positions).
    /// </summary>
    public static void TablesAt(ReadOnlySpan<int> positions, int window, int headDim, float theta, RopeScaling scaling, int trainedLength, Span<float> cos, Span<float> sin)
    {
        int half = CheckHalf(headDim);
        if (cos.Length < positions.Length * half || sin.Length < positions.Length * half) throw new ArgumentException($"cos/sin need {positions.Length * half} elements.");
        var (baseTheta, posScale) = Frequencies(window, headDim, theta, scaling, trainedLength);
        for (int i = 0; i < half; i++)
        {
            float invFreq = (float)(1.0 / Math.Pow(baseTheta, 2.0 * i / headDim));
            for (int k = 0; k < positions.Length; k++)
            {
                int t = positions[k];
                if ((uint)t >= (uint)window) throw new ArgumentOutOfRangeException(nameof(positions), t, $"Position {t} is outside the window of {window}.");
                float angle = (float)(t * posScale) * invFreq;
                cos[k * half + i] = MathF.Cos(angle);
                sin[k * half + i] = MathF.Sin(angle);
            }
        }
    }

    private static int CheckHalf(int headDim)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"Rotary embeddings need an even head dimension; got {headDim}.");
        return headDim / 2;
    }

    // The base and position scale of a window of `positions` (dynamic NTK depends on the window's length).
    private static (double BaseTheta, double PosScale) Frequencies(int positions, int headDim, float theta, RopeScaling scaling, int trainedLength)
    {
        double baseTheta = theta;
        double posScale = 1.0;
        switch (scaling.Type ?? "none")
        {
            case "none" or "default" or "": break;
            case "linear": posScale = 1.0 / scaling.Factor; break;
            case "dynamic":
                if (positions > trainedLength)
                    baseTheta = theta * Math.Pow(scaling.Factor * positions / (double)trainedLength - (scaling.Factor - 1), headDim / (headDim - 2.0));
                break;
            default: throw new NotSupportedException($"rope_scaling type \"{scaling.Type}\" is not supported; use linear or dynamic.");
        }
        return (baseTheta, posScale);
    }

    /// <summary>
    /// Rotates x (rows = B·T of heads·d values) in place; row r is at position (r mod T) + offset.
    /// <paramref name="inverse"/> rotates by −angle (the backward pass).
    /// </summary>
    public static void Apply(Span<float> x, int time, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, bool inverse = false, int positionOffset = 0, WorkerPool? pool = null)
    {
        int rowLen = heads * headDim;
        int rows = Softmax.CheckRows(x.Length, rowLen, "x");
        fixed (float* px = x, pc = cos, ps = sin)
            Ranges.Run(pool, rows, rowLen, new Kernel { X = px, Cos = pc, Sin = ps, T = time, Heads = heads, D = headDim, Sign = inverse ? -1f : 1f, Offset = positionOffset });
    }

    /// <summary>
    /// Rotates x (rows = B·T of heads·d values) in place; row r is at position <paramref name="positions"/>[r]
    /// (HF's position_ids: packed documents restart at 0), each below the tables' length.
    /// </summary>
    public static void Apply(Span<float> x, int heads, int headDim, ReadOnlySpan<int> positions, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, bool inverse = false, WorkerPool? pool = null)
    {
        int rowLen = heads * headDim;
        int rows = Softmax.CheckRows(x.Length, rowLen, "x");
        if (positions.Length != rows) throw new ArgumentException($"positions has {positions.Length} entries; x has {rows} rows.");
        int tablePositions = Math.Min(cos.Length, sin.Length) / (headDim / 2);
        foreach (int p in positions)
            if ((uint)p >= (uint)tablePositions) throw new ArgumentException($"position {p} is outside the cos/sin tables (0..{tablePositions - 1}).");
        fixed (float* px = x, pc = cos, ps = sin)
        fixed (int* pp = positions)
            Ranges.Run(pool, rows, rowLen, new Kernel { X = px, Cos = pc, Sin = ps, T = 1, Heads = heads, D = headDim, Sign = inverse ? -1f : 1f, Positions = pp });
    }

    private struct Kernel : IRangeKernel
    {
        public float* X, Cos, Sin;
        public int* Positions;
        public int T, Heads, D, Offset;
        public float Sign;
        public readonly void Run(int start, int end)
        {
            int half = D / 2;
            for (int r = start; r < end; r++)
            {
                int pos = Positions != null ? Positions[r] : r % T + Offset;
                float* c = Cos + (long)pos * half, s = Sin + (long)pos * half;
                for (int h = 0; h < Heads; h++)
                {
                    float* v = X + ((long)r * Heads + h) * D;
                    for (int i = 0; i < half; i++)
                    {
                        float a = v[i], b = v[i + half], sn = Sign * s[i];
                        v[i] = a * c[i] - b * sn;
                        v[i + half] = b * c[i] + a * sn;
                    }
                }
            }
        }
    }
}
