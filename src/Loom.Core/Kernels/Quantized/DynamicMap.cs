// bitsandbytes' signed 8-bit "dynamic" code (functional.py create_dynamic_map(signed=True,
// max_exponent_bits=7, total_bits=8); Dettmers 2016, "8-Bit Approximations for Parallelism in Deep
// Learning"): a dynamic exponent 10^(−6+i), i = 0..6, each with 2^i linear fraction steps — the means
// of consecutive points of linspace(0.1, 1, 2^i + 1) — mirrored for the sign, plus 0 and 1.0: 256
// ascending values in [−0.993, 1]. QLoRA's double quantization (Dettmers et al. 2023, §3) stores the
// NF4 block scales in this code. The 256 float32 values are torch's (see Create); Nf4DoubleQuantTests
// checks them bit for bit against the fixture script's output.
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

    // torch.linspace(0.1, 1, 2^i + 1) as bitsandbytes calls it, midpoints and powers of ten in float32.
    // torch's vectorized linspace rounds some points one ulp away from any scalar formula (its arange
    // lanes add k·step to a vector base), so the table is torch's own output, written by
    // make_double_quant_fixture.py (dq_map.f32) and checked bit for bit by Nf4DoubleQuantTests.
    private static float[] Create() =>
    [
        -0.99296874f, -0.9789062f, -0.96484375f, -0.9507812f, -0.9367187f, -0.92265624f, -0.9085938f, -0.89453125f,
        -0.8804687f, -0.8664062f, -0.85234374f, -0.8382812f, -0.82421875f, -0.8101562f, -0.7960937f, -0.78203124f,
        -0.7679688f, -0.75390625f, -0.7398438f, -0.72578126f, -0.7117188f, -0.6976563f, -0.68359375f, -0.6695313f,
        -0.65546876f, -0.64140624f, -0.6273438f, -0.61328125f, -0.5992187f, -0.58515626f, -0.5710938f, -0.5570313f,
        -0.54296875f, -0.5289062f, -0.51484376f, -0.50078124f, -0.48671877f, -0.47265625f, -0.45859373f, -0.44453126f,
        -0.43046874f, -0.4164062f, -0.40234375f, -0.38828123f, -0.37421876f, -0.36015624f, -0.3460937f, -0.33203125f,
        -0.31796873f, -0.30390626f, -0.28984374f, -0.27578127f, -0.26171875f, -0.24765626f, -0.23359376f, -0.21953125f,
        -0.20546874f, -0.19140625f, -0.17734374f, -0.16328125f, -0.14921875f, -0.13515624f, -0.12109375f, -0.107031256f,
        -0.09859375f, -0.095781244f, -0.092968754f, -0.09015625f, -0.08734375f, -0.08453125f, -0.08171874f, -0.07890625f,
        -0.07609375f, -0.07328125f, -0.070468746f, -0.067656256f, -0.06484375f, -0.062031247f, -0.059218753f, -0.05640625f,
        -0.05359375f, -0.05078125f, -0.04796875f, -0.04515625f, -0.042343747f, -0.03953125f, -0.036718752f, -0.033906247f,
        -0.03109375f, -0.028281247f, -0.02546875f, -0.02265625f, -0.01984375f, -0.01703125f, -0.01421875f, -0.01140625f,
        -0.00971875f, -0.009156249f, -0.00859375f, -0.00803125f, -0.00746875f, -0.00690625f, -0.00634375f, -0.00578125f,
        -0.0052187503f, -0.0046562497f, -0.00409375f, -0.0035312497f, -0.00296875f, -0.00240625f, -0.00184375f, -0.0012812499f,
        -0.0009437501f, -0.00083125f, -0.00071875006f, -0.0006062501f, -0.00049375003f, -0.00038125002f, -0.00026875004f, -0.00015625001f,
        -8.875e-05f, -6.625e-05f, -4.375e-05f, -2.1249998e-05f, -7.75e-06f, -3.2500002e-06f, -5.5000004e-07f, 0f,
        5.5000004e-07f, 3.2500002e-06f, 7.75e-06f, 2.1249998e-05f, 4.375e-05f, 6.625e-05f, 8.875e-05f, 0.00015625001f,
        0.00026875004f, 0.00038125002f, 0.00049375003f, 0.0006062501f, 0.00071875006f, 0.00083125f, 0.0009437501f, 0.0012812499f,
        0.00184375f, 0.00240625f, 0.00296875f, 0.0035312497f, 0.00409375f, 0.0046562497f, 0.0052187503f, 0.00578125f,
        0.00634375f, 0.00690625f, 0.00746875f, 0.00803125f, 0.00859375f, 0.009156249f, 0.00971875f, 0.01140625f,
        0.01421875f, 0.01703125f, 0.01984375f, 0.02265625f, 0.02546875f, 0.028281247f, 0.03109375f, 0.033906247f,
        0.036718752f, 0.03953125f, 0.042343747f, 0.04515625f, 0.04796875f, 0.05078125f, 0.05359375f, 0.05640625f,
        0.059218753f, 0.062031247f, 0.06484375f, 0.067656256f, 0.070468746f, 0.07328125f, 0.07609375f, 0.07890625f,
        0.08171874f, 0.08453125f, 0.08734375f, 0.09015625f, 0.092968754f, 0.095781244f, 0.09859375f, 0.107031256f,
        0.12109375f, 0.13515624f, 0.14921875f, 0.16328125f, 0.17734374f, 0.19140625f, 0.20546874f, 0.21953125f,
        0.23359376f, 0.24765626f, 0.26171875f, 0.27578127f, 0.28984374f, 0.30390626f, 0.31796873f, 0.33203125f,
        0.3460937f, 0.36015624f, 0.37421876f, 0.38828123f, 0.40234375f, 0.4164062f, 0.43046874f, 0.44453126f,
        0.45859373f, 0.47265625f, 0.48671877f, 0.50078124f, 0.51484376f, 0.5289062f, 0.54296875f, 0.5570313f,
        0.5710938f, 0.58515626f, 0.5992187f, 0.61328125f, 0.6273438f, 0.64140624f, 0.65546876f, 0.6695313f,
        0.68359375f, 0.6976563f, 0.7117188f, 0.72578126f, 0.7398438f, 0.75390625f, 0.7679688f, 0.78203124f,
        0.7960937f, 0.8101562f, 0.82421875f, 0.8382812f, 0.85234374f, 0.8664062f, 0.8804687f, 0.89453125f,
        0.9085938f, 0.92265624f, 0.9367187f, 0.9507812f, 0.96484375f, 0.9789062f, 0.99296874f, 1f,
    ];
}
