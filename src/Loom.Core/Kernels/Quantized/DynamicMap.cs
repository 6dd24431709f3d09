// bitsandbytes' signed 8-bit "dynamic" code (functional.py create_dynamic_map(signed=True,
// max_exponent_bits=7, total_bits=8); Dettmers 2016, "8-Bit Approximations for Parallelism in Deep
// Learning"): a dynamic exponent 10^(−6+i), i = 0..6, each with 2^i linear fraction steps — the means
// of consecutive points of linspace(0.1, 1, 2^i + 1) — mirrored for the sign, plus 0 and 1.0: 256
// ascending values in [−0.993, 1]. QLoRA's double quantization (Dettmers et al. 2023, §3) stores the
// NF4 block scales in this code. The values are computed as bitsandbytes does: linspace in float32
// (torch's rule: start + step·k for the first half, end − step·(n−1−k) for the second), their
// midpoints in float32, scaled by the power of ten in float64, rounded to float32; the fixture
// script writes torch's own table and DoubleQuantTests checks every value bit for bit.
namespace Loom.Core.Kernels.Quantized;

/// <summary>The 256-value signed dynamic 8-bit code of bitsandbytes.</summary>
public static class DynamicMap
{
    private static readonly float[] s_values = Create();

    /// <summary>The code's 256 values, ascending; code c decodes to Values[c].</summary>
    public static ReadOnlySpan<float> Values => s_values;

    /// <summary>The code of the value nearest to <paramref name="v"/> (in [−1, 1]); a tie goes to the lower code.</summary>
    public static byte Code(float v)
    {
        // Binary search for the first value ≥ v, then the nearer of it and its lower neighbour.
        var t = s_values;
        int lo = 0, hi = t.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (t[mid] < v) lo = mid + 1; else hi = mid;
        }
        if (lo > 0 && MathF.Abs(v - t[lo - 1]) <= MathF.Abs(t[lo] - v)) lo--;
        return (byte)lo;
    }

    private static float[] Create()
    {
        const int maxExponentBits = 7;
        var data = new List<double>(256);
        for (int i = 0; i < maxExponentBits; i++)
        {
            int n = (1 << i) + 1;                       // fraction_items
            var b = Linspace(0.1f, 1f, n);
            double scale = Math.Pow(10, -(maxExponentBits - 1) + i);
            for (int k = 0; k < n - 1; k++)
            {
                float mean = (b[k] + b[k + 1]) / 2f;
                data.Add(scale * mean);
                data.Add(-scale * mean);
            }
        }
        data.Add(0);
        data.Add(1.0);
        var values = data.Select(d => (float)d).ToArray();
        Array.Sort(values);
        return values;
    }

    // torch.linspace on the CPU in float32 (aten RangeFactoriesKernel: step = (end − start)/(n − 1),
    // the first half start + k·step, the second end − (n − 1 − k)·step).
    private static float[] Linspace(float start, float end, int n)
    {
        var r = new float[n];
        float step = (end - start) / (n - 1);
        int half = n / 2;
        for (int k = 0; k < n; k++) r[k] = k < half ? start + step * k : end - step * (n - 1 - k);
        return r;
    }
}
