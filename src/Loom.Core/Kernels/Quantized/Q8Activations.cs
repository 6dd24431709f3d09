// Activations quantized to 8 bits on the fly, as ggml does before a quantized dot product
// (quantize_row_q8_0 for Q8_0/Q4_0 weights, quantize_row_q8_K for the k-quants), so the inner loop
// multiplies bytes by bytes. Stored planar for one row of n values:
//   32-blocks (Q8_0 and Q4_0 weights): qs[n] int8, d[n/32] float (absmax/127), sums[n/32] int (Σ qs, for
//     Q4_0's −8 offset: Σ(q−8)·x = Σ q·x − 8·Σ x);
//   256-blocks (Q4_K, Q6_K): qs[n] int8, d[n/256] float, sums[n/16] int (ggml's bsums, for the mins/offsets).
// Unlike ggml's block_q8_0 the activation scale stays float32 (ggml rounds it to fp16): one rounding fewer.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels.Quantized;

/// <summary>Pointers to one row of 8-bit activations.</summary>
internal unsafe struct Q8Row
{
    public sbyte* Qs;
    public float* D;
    public int* Sums;

    /// <summary>Bytes one row of <paramref name="n"/> values takes in scratch (both layouts, 64-byte aligned parts).</summary>
    public static long ScratchBytes(int n) => Align(n) + Align(n / 32 * 4L) + Align(n / 16 * 4L);

    private static long Align(long b) => (b + 63) & ~63L;

    public static Q8Row At(byte* scratch, int n) => new()
    {
        Qs = (sbyte*)scratch,
        D = (float*)(scratch + Align(n)),
        Sums = (int*)(scratch + Align(n) + Align(n / 32 * 4L)),
    };

    /// <summary>ggml quantize_row_q8_0 (with a float scale), plus block sums.</summary>
    public static void Quantize32(float* x, int n, Q8Row row)
    {
        if (Avx512F.IsSupported) Quantize32Avx512(x, n, row);
        else Quantize32Reference(x, n, row);
    }

    /// <summary>The scalar loop (the reference the vector one is tested against).</summary>
    public static void Quantize32Reference(float* x, int n, Q8Row row)
    {
        for (int b = 0; b < n / 32; b++)
        {
            float* xb = x + b * 32;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(xb[j]));
            float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
            int sum = 0;
            sbyte* q = row.Qs + b * 32;
            for (int j = 0; j < 32; j++)
            {
                int v = QuantMath.NearestInt(xb[j] * id);
                q[j] = (sbyte)v;
                sum += v;
            }
            row.D[b] = d;
            row.Sums[b] = sum;
        }
    }

    // The reference loop above in vectors, two 16-float halves per block, with the same float operations in the same
    // order (|x| max, d = amax/127, 1/d, x·id + 1.5·2²³ without fusing), so it writes the same bytes; called once
    // per activation row before a decode matvec (every projection's input), where the scalar loop cost ~6 ops per value.
    private static void Quantize32Avx512(float* x, int n, Q8Row row)
    {
        var magic = Vector512.Create(12582912f);
        var mantissa = Vector512.Create(0x007fffff);
        var bias = Vector512.Create(0x00400000);
        var abs = Vector512.Create(0x7fffffff).AsSingle();
        for (int b = 0; b < n / 32; b++)
        {
            var v0 = Vector512.Load(x + 32 * b);
            var v1 = Vector512.Load(x + 32 * b + 16);
            var m = Avx512F.Max(v0 & abs, v1 & abs);
            var m256 = Avx.Max(m.GetLower(), m.GetUpper());
            var m128 = Sse.Max(m256.GetLower(), m256.GetUpper());
            m128 = Sse.Max(m128, Sse.Shuffle(m128, m128, 0b01_00_11_10));
            m128 = Sse.Max(m128, Sse.Shuffle(m128, m128, 0b10_11_00_01));
            float amax = m128.ToScalar();
            float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
            var idv = Vector512.Create(id);
            var q0 = ((v0 * idv + magic).AsInt32() & mantissa) - bias;
            var q1 = ((v1 * idv + magic).AsInt32() & mantissa) - bias;
            Avx512F.ConvertToVector128SByte(q0).Store(row.Qs + 32 * b);
            Avx512F.ConvertToVector128SByte(q1).Store(row.Qs + 32 * b + 16);
            row.D[b] = d;
            row.Sums[b] = Vector512.Sum(q0 + q1);
        }
    }

    /// <summary>ggml quantize_row_q8_K_ref: d = −max/127 with max the signed value of largest magnitude, bsums per 16.</summary>
    public static void Quantize256(float* x, int n, Q8Row row)
    {
        for (int b = 0; b < n / 256; b++)
        {
            float* xb = x + b * 256;
            sbyte* q = row.Qs + b * 256;
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(xb[j]);
                if (ax > amax) { amax = ax; max = xb[j]; }
            }
            if (amax == 0)
            {
                new Span<sbyte>(q, 256).Clear();
                new Span<int>(row.Sums + b * 16, 16).Clear();
                row.D[b] = 0;
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) q[j] = (sbyte)Math.Min(127, QuantMath.NearestInt(iscale * xb[j]));
            for (int j = 0; j < 16; j++)
            {
                int s = 0;
                for (int i = 0; i < 16; i++) s += q[16 * j + i];
                row.Sums[b * 16 + j] = s;
            }
            row.D[b] = 1 / iscale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool UsesSuperBlocks(QuantFormat format) => format is QuantFormat.Q4_K or QuantFormat.Q6_K;
}
