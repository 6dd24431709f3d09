// Dot products of one quantized weight row with one activation row, never decoding the weights to a
// float row (ggml's vec_dot of each type trait). Integer formats multiply weight bytes by 8-bit
// activations (Q8Row) and apply scales per block:
//   Q8_0: Σ_b dw_b·dx_b·Σ_j w_j·x_j                       (sign trick: |w|·sign(x, w), as ggml AVX2)
//   Q4_0: Σ_b dw_b·dx_b·(Σ_j q_j·x_j − 8·Σ_j x_j)          (q unsigned nibbles, Σx precomputed)
//   Q4_K: Σ_B dx·(d·Σ_j sc_j·Σ q·x − dmin·Σ_j m_j·Σ_{32} x)
//   Q6_K: Σ_B dx·d·Σ_j sc_j·(Σ q·x − 32·Σ_{16} x)          (q the unsigned 6-bit code)
// NF4 and F16 multiply by float activations: each NF4 code is looked up in the 16-level table in registers;
// F16 halves are widened to floats in registers (bit arithmetic below: .NET 10 has no vcvtph2ps API).
// The AVX-512 paths handle two 32-blocks (or two k-quant groups) per 64-byte vpmaddubsw + vpmaddwd, with two
// independent accumulators so the FMA chain does not bound a memory-bound decode; the k-quants apply their
// sub-block scales with vpmaddwd and keep a float accumulator per row (one horizontal sum per row).
// These per-row kernels serve Q8_0, Q4_K, Q6_K, F16 and NF4 matrices, and the rows of a Q4_0 matrix after its last
// full 16-row group; the groups themselves run InterleavedDot.
// Each SIMD path is checked against the scalar one, which is checked against dequantize-then-dot.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels.Quantized;

internal static unsafe class QuantizedDot
{
    // ---------------------------------------------------------------- shared helpers

    // 32 unsigned bytes × 32 signed bytes → 8 int32 sums of 4 adjacent products each.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotU8S8(Vector256<byte> u, Vector256<sbyte> s, bool vnni)
    {
        if (vnni && AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1));
    }

    // A block's fp16 scale as float: one load from a table of all 65,536 halves (ggml's ggml_table_f32_f16, which it
    // reads where F16C is absent; .NET 10 exposes no vcvtph2ps). The bit arithmetic it replaced (HalfBits) took ~12
    // scalar operations and two GPR↔XMM moves per block, more than the block's whole vector work in the Q8_0 AVX-512
    // kernel, which measured compute-bound at 10-15 GB/s on one thread where f32 rows streamed at 24 GB/s (decode-matvec,
    // docs/PERFORMANCE.md). A model's scales take few distinct values, so the lines read stay in L1.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Half(byte* p) => s_halves[*(ushort*)p];

    private static readonly float* s_halves = MakeHalves();

    // Process lifetime (never freed): 256 KB, 64-byte aligned.
    private static float* MakeHalves()
    {
        var t = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int h = 0; h < 65536; h++) t[h] = HalfBits((ushort)h);
        return t;
    }

    /// <summary>fp16 bits → float by the same bit arithmetic as <see cref="HalfToSingle(Vector512{uint})"/>: exact for every half.</summary>
    internal static float HalfBits(ushort half)
    {
        uint h = half;
        uint m = (h & 0x7FFF) << 13;
        uint bits = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(m) * 5.192296858534828e33f) | (h & 0x8000) << 16;
        if (m >= 0x7C00u << 13) bits |= 0x7F800000;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Vector256<float> v) => Vector256.Sum(v);

    // ---------------------------------------------------------------- Q8_0

    public static float Q8_0(byte* w, Q8Row x, int blocks, QuantKernelPath path)
    {
        if (path == QuantKernelPath.Avx512) return Q8_0Avx512(w, x, blocks);
        if (path == QuantKernelPath.Scalar || !Avx2.IsSupported)
        {
            float acc = 0;
            for (int b = 0; b < blocks; b++)
            {
                sbyte* q = (sbyte*)(w + 34 * b + 2);
                sbyte* xq = x.Qs + 32 * b;
                int s = 0;
                for (int j = 0; j < 32; j++) s += q[j] * xq[j];
                acc += Half(w + 34 * b) * x.D[b] * s;
            }
            return acc;
        }
        bool vnni = path == QuantKernelPath.Vnni;
        var vacc = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            var q = Avx.LoadVector256((sbyte*)(w + 34 * b + 2));
            var xq = Avx.LoadVector256(x.Qs + 32 * b);
            var dot = DotU8S8(Avx2.Abs(q), Avx2.Sign(xq, q), vnni);
            vacc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), Vector256.Create(Half(w + 34 * b) * x.D[b]), vacc);
        }
        return Sum(vacc);
    }

    // ---------------------------------------------------------------- Q4_0

    public static float Q4_0(byte* w, Q8Row x, int blocks, QuantKernelPath path)
    {
        if (path == QuantKernelPath.Avx512) return Q4_0Avx512(w, x, blocks);
        if (path == QuantKernelPath.Scalar || !Avx2.IsSupported)
        {
            float acc = 0;
            for (int b = 0; b < blocks; b++)
            {
                byte* q = w + 18 * b + 2;
                sbyte* xq = x.Qs + 32 * b;
                int s = 0;
                for (int j = 0; j < 16; j++) s += (q[j] & 0xF) * xq[j] + (q[j] >> 4) * xq[j + 16];
                acc += Half(w + 18 * b) * x.D[b] * (s - 8 * x.Sums[b]);
            }
            return acc;
        }
        bool vnni = path == QuantKernelPath.Vnni;
        var vacc = Vector256<float>.Zero;
        float corr = 0;
        var low = Vector128.Create((byte)0xF);
        for (int b = 0; b < blocks; b++)
        {
            var raw = Sse2.LoadVector128(w + 18 * b + 2);
            var lo = Sse2.And(raw, low);
            var hi = Sse2.And(Sse2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte(), low);
            var q = Vector256.Create(lo, hi);
            var dot = DotU8S8(q, Avx.LoadVector256(x.Qs + 32 * b), vnni);
            float d = Half(w + 18 * b) * x.D[b];
            vacc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), Vector256.Create(d), vacc);
            corr += d * x.Sums[b];
        }
        return Sum(vacc) - 8 * corr;
    }

    // ---------------------------------------------------------------- Q4_K

    // The eight 6-bit scales and mins of a block_q4_K (get_scale_min_k4).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalesMins(byte* s, int* sc, int* m)
    {
        for (int j = 0; j < 4; j++) { sc[j] = s[j] & 63; m[j] = s[j + 4] & 63; }
        for (int j = 4; j < 8; j++)
        {
            sc[j] = (s[j + 4] & 0xF) | (s[j - 4] >> 6) << 4;
            m[j] = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
        }
    }

    public static float Q4_K(byte* w, Q8Row x, int superBlocks, QuantKernelPath path)
    {
        if (path == QuantKernelPath.Avx512) return Q4_KAvx512(w, x, superBlocks);
        int* sc = stackalloc int[8];
        int* m = stackalloc int[8];
        bool simd = path != QuantKernelPath.Scalar && Avx2.IsSupported;
        bool vnni = path == QuantKernelPath.Vnni;
        float acc = 0;
        var low = Vector256.Create((byte)0xF);
        for (int b = 0; b < superBlocks; b++)
        {
            byte* blk = w + 144 * b;
            float d = Half(blk) * x.D[b], dmin = Half(blk + 2) * x.D[b];
            ScalesMins(blk + 4, sc, m);
            int* bs = x.Sums + 16 * b;
            int mins = 0;
            for (int j = 0; j < 8; j++) mins += m[j] * (bs[2 * j] + bs[2 * j + 1]);
            byte* q = blk + 16;
            sbyte* xq = x.Qs + 256 * b;
            int sumi = 0;
            if (simd)
            {
                var vs = Vector256<int>.Zero;
                for (int g = 0; g < 4; g++)
                {
                    var raw = Avx.LoadVector256(q + 32 * g);
                    var lo = Avx2.And(raw, low);
                    var hi = Avx2.And(Avx2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte(), low);
                    var d1 = DotU8S8(lo, Avx.LoadVector256(xq + 64 * g), vnni);
                    var d2 = DotU8S8(hi, Avx.LoadVector256(xq + 64 * g + 32), vnni);
                    vs = Avx2.Add(vs, Avx2.Add(Avx2.MultiplyLow(d1, Vector256.Create(sc[2 * g])), Avx2.MultiplyLow(d2, Vector256.Create(sc[2 * g + 1]))));
                }
                sumi = Vector256.Sum(vs);
            }
            else
            {
                for (int g = 0; g < 4; g++)
                {
                    int s1 = 0, s2 = 0;
                    for (int l = 0; l < 32; l++)
                    {
                        s1 += (q[32 * g + l] & 0xF) * xq[64 * g + l];
                        s2 += (q[32 * g + l] >> 4) * xq[64 * g + 32 + l];
                    }
                    sumi += sc[2 * g] * s1 + sc[2 * g + 1] * s2;
                }
            }
            acc += d * sumi - dmin * mins;
        }
        return acc;
    }

    // ---------------------------------------------------------------- Q6_K

    public static float Q6_K(byte* w, Q8Row x, int superBlocks, QuantKernelPath path)
    {
        if (path == QuantKernelPath.Avx512) return Q6_KAvx512(w, x, superBlocks);
        bool simd = path != QuantKernelPath.Scalar && Avx2.IsSupported;
        bool vnni = path == QuantKernelPath.Vnni;
        float acc = 0;
        var low = Vector256.Create((byte)0xF);
        var three = Vector256.Create((byte)3);
        for (int b = 0; b < superBlocks; b++)
        {
            byte* blk = w + 210 * b;
            sbyte* sc = (sbyte*)(blk + 192);
            float d = Half(blk + 208) * x.D[b];
            int* bs = x.Sums + 16 * b;
            int offset = 0;
            for (int j = 0; j < 16; j++) offset += sc[j] * bs[j];
            sbyte* xq = x.Qs + 256 * b;
            int sumi = 0;
            if (simd)
            {
                var vs = Vector256<int>.Zero;
                for (int h = 0; h < 2; h++)
                {
                    byte* ql = blk + 64 * h;
                    byte* qh = blk + 128 + 32 * h;
                    sbyte* s8 = sc + 8 * h;
                    sbyte* xh = xq + 128 * h;
                    var l0 = Avx.LoadVector256(ql);
                    var l1 = Avx.LoadVector256(ql + 32);
                    var hb = Avx.LoadVector256(qh).AsUInt16();
                    var q1 = Avx2.Or(Avx2.And(l0, low), Avx2.ShiftLeftLogical(Avx2.And(hb.AsByte(), three).AsUInt16(), 4).AsByte());
                    var q2 = Avx2.Or(Avx2.And(l1, low), Avx2.ShiftLeftLogical(Avx2.And(Avx2.ShiftRightLogical(hb, 2).AsByte(), three).AsUInt16(), 4).AsByte());
                    var q3 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(l0.AsUInt16(), 4).AsByte(), low), Avx2.ShiftLeftLogical(Avx2.And(Avx2.ShiftRightLogical(hb, 4).AsByte(), three).AsUInt16(), 4).AsByte());
                    var q4 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(l1.AsUInt16(), 4).AsByte(), low), Avx2.ShiftLeftLogical(Avx2.And(Avx2.ShiftRightLogical(hb, 6).AsByte(), three).AsUInt16(), 4).AsByte());
                    var p1 = DotU8S8(q1, Avx.LoadVector256(xh), vnni);
                    var p2 = DotU8S8(q2, Avx.LoadVector256(xh + 32), vnni);
                    var p3 = DotU8S8(q3, Avx.LoadVector256(xh + 64), vnni);
                    var p4 = DotU8S8(q4, Avx.LoadVector256(xh + 96), vnni);
                    // Lanes 0-3 hold elements 0..15 of the 32 (scale s[2k]), lanes 4-7 elements 16..31 (s[2k+1]).
                    vs = Avx2.Add(vs, Avx2.MultiplyLow(p1, Vector256.Create(Vector128.Create((int)s8[0]), Vector128.Create((int)s8[1]))));
                    vs = Avx2.Add(vs, Avx2.MultiplyLow(p2, Vector256.Create(Vector128.Create((int)s8[2]), Vector128.Create((int)s8[3]))));
                    vs = Avx2.Add(vs, Avx2.MultiplyLow(p3, Vector256.Create(Vector128.Create((int)s8[4]), Vector128.Create((int)s8[5]))));
                    vs = Avx2.Add(vs, Avx2.MultiplyLow(p4, Vector256.Create(Vector128.Create((int)s8[6]), Vector128.Create((int)s8[7]))));
                }
                sumi = Vector256.Sum(vs);
            }
            else
            {
                for (int h = 0; h < 2; h++)
                {
                    byte* ql = blk + 64 * h;
                    byte* qh = blk + 128 + 32 * h;
                    sbyte* s8 = sc + 8 * h;
                    sbyte* xh = xq + 128 * h;
                    for (int l = 0; l < 32; l++)
                    {
                        int k = l / 16;
                        int q1 = (ql[l] & 0xF) | (qh[l] & 3) << 4;
                        int q2 = (ql[l + 32] & 0xF) | (qh[l] >> 2 & 3) << 4;
                        int q3 = (ql[l] >> 4) | (qh[l] >> 4 & 3) << 4;
                        int q4 = (ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4;
                        sumi += s8[k] * q1 * xh[l] + s8[k + 2] * q2 * xh[l + 32] + s8[k + 4] * q3 * xh[l + 64] + s8[k + 6] * q4 * xh[l + 96];
                    }
                }
            }
            acc += d * (sumi - 32 * offset);
        }
        return acc;
    }

    // ---------------------------------------------------------------- AVX-512 (two blocks per 64-byte vector)

    // 64 unsigned bytes × 64 signed bytes → 16 int32 sums of 4 adjacent products (vpmaddubsw, vpmaddwd). The
    // int16 step cannot saturate here: |u| ≤ 128 (Q8_0's |q|), 63 (Q6_K) or 15 (4-bit) and |s| ≤ 127 give
    // pair sums ≤ 2·128·127 = 32,512 < 32,767.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> DotU8S8(Vector512<byte> u, Vector512<sbyte> s) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), Vector512.Create((short)1));

    // Blocks b and b+1 of Q8_0 (34 bytes apart): lanes 0-7 hold block b's four-product sums, 8-15 block b+1's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Q8_0Pair(byte* w, sbyte* xq, float* xd, Vector512<float> acc)
    {
        var q = Vector512.Create(Avx.LoadVector256((sbyte*)(w + 2)), Avx.LoadVector256((sbyte*)(w + 36)));
        var xv = Vector512.Load(xq);
        // ggml's sign trick without vpsignb (absent at 512 bits): |q| · (x negated where q < 0).
        var s = Vector512.ConditionalSelect(Vector512.LessThan(q, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - xv, xv);
        var dot = DotU8S8(Avx512BW.Abs(q), s);
        var scale = Vector512.Create(Vector256.Create(Half(w) * xd[0]), Vector256.Create(Half(w + 34) * xd[1]));
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), scale, acc);
    }

    private static float Q8_0Avx512(byte* w, Q8Row x, int blocks)
    {
        var a0 = Vector512<float>.Zero;
        var a1 = Vector512<float>.Zero;
        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            a0 = Q8_0Pair(w + 34 * b, x.Qs + 32 * b, x.D + b, a0);
            a1 = Q8_0Pair(w + 34 * (b + 2), x.Qs + 32 * (b + 2), x.D + b + 2, a1);
        }
        if (b + 2 <= blocks) { a0 = Q8_0Pair(w + 34 * b, x.Qs + 32 * b, x.D + b, a0); b += 2; }
        float acc = Vector512.Sum(a0 + a1);
        if (b < blocks)
        {
            var q = Avx.LoadVector256((sbyte*)(w + 34 * b + 2));
            var dot = DotU8S8(Avx2.Abs(q), Avx2.Sign(Avx.LoadVector256(x.Qs + 32 * b), q), false);
            acc += Half(w + 34 * b) * x.D[b] * Vector256.Sum(dot);
        }
        return acc;
    }

    // Blocks b and b+1 of Q4_0 (18 bytes apart), nibbles laid out as the activations are: low nibbles are weights
    // 0-15 of a block, high nibbles 16-31.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Q4_0Pair(byte* w, sbyte* xq, float* xd, int* xs, Vector512<float> acc, ref float corr)
    {
        var r0 = Sse2.LoadVector128(w + 2);
        var r1 = Sse2.LoadVector128(w + 20);
        var q = Vector512.Create(Vector256.Create(r0, Sse2.ShiftRightLogical(r0.AsUInt16(), 4).AsByte()),
                                 Vector256.Create(r1, Sse2.ShiftRightLogical(r1.AsUInt16(), 4).AsByte())) & Vector512.Create((byte)0xF);
        var dot = DotU8S8(q, Vector512.Load(xq));
        float d0 = Half(w) * xd[0], d1 = Half(w + 18) * xd[1];
        corr += d0 * xs[0] + d1 * xs[1];
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), Vector512.Create(Vector256.Create(d0), Vector256.Create(d1)), acc);
    }

    private static float Q4_0Avx512(byte* w, Q8Row x, int blocks)
    {
        var a0 = Vector512<float>.Zero;
        var a1 = Vector512<float>.Zero;
        float corr = 0;
        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            a0 = Q4_0Pair(w + 18 * b, x.Qs + 32 * b, x.D + b, x.Sums + b, a0, ref corr);
            a1 = Q4_0Pair(w + 18 * (b + 2), x.Qs + 32 * (b + 2), x.D + b + 2, x.Sums + b + 2, a1, ref corr);
        }
        if (b + 2 <= blocks) { a0 = Q4_0Pair(w + 18 * b, x.Qs + 32 * b, x.D + b, x.Sums + b, a0, ref corr); b += 2; }
        float acc = Vector512.Sum(a0 + a1);
        for (; b < blocks; b++)
        {
            byte* q = w + 18 * b + 2;
            sbyte* xq = x.Qs + 32 * b;
            int s = 0;
            for (int j = 0; j < 16; j++) s += (q[j] & 0xF) * xq[j] + (q[j] >> 4) * xq[j + 16];
            float d = Half(w + 18 * b) * x.D[b];
            acc += d * s;
            corr += d * x.Sums[b];
        }
        return acc - 8 * corr;
    }

    // vpermw indices giving the int16 pair sums of Q4_K group g (64 weights: low nibbles sub-block 2g, high 2g+1) their
    // scales: lanes 0-15 scale 2g, lanes 16-31 scale 2g+1, out of the 8 unpacked scales in int16 lanes 0-7.
    private static readonly Vector512<short> Q4KScales0 = GroupScaleIndex(0), Q4KScales1 = GroupScaleIndex(1),
        Q4KScales2 = GroupScaleIndex(2), Q4KScales3 = GroupScaleIndex(3);

    private static Vector512<short> GroupScaleIndex(int g)
    {
        var index = new short[32];
        for (int i = 0; i < 32; i++) index[i] = (short)(2 * g + i / 16);
        return Vector512.Create(index);
    }

    // The 12 scale bytes of a block_q4_K as 8 scale bytes then 8 min bytes (what ScalesMins computes one by one), with
    // 32-bit masks and shifts on the three little-endian words, as ggml's x86 q4_K dot does:
    //   sc[0..3] = s[0..3] & 63              m[0..3] = s[4..7] & 63
    //   sc[4..7] = s[8..11] & 15 | (s[0..3] >> 6) << 4    m[4..7] = s[8..11] >> 4 | (s[4..7] >> 6) << 4
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> PackedScalesMins(byte* s)
    {
        uint s0 = *(uint*)s, s1 = *(uint*)(s + 4), s2 = *(uint*)(s + 8);
        uint sc03 = s0 & 0x3F3F3F3F;
        uint sc47 = (s2 & 0x0F0F0F0F) | ((s0 >> 6) & 0x03030303) << 4;
        uint m03 = s1 & 0x3F3F3F3F;
        uint m47 = ((s2 >> 4) & 0x0F0F0F0F) | ((s1 >> 6) & 0x03030303) << 4;
        return Vector128.Create(sc03, sc47, m03, m47).AsByte();
    }

    // Q4_K as Q6_K below: each group's scales applied by vpmaddwd to the int16 pair sums (no vpmulld), the super-block
    // scaled into a float accumulator, one horizontal sum per row; the mins term Σ dmin·dx·Σ_j m_j·bsum_j stays scalar.
    private static float Q4_KAvx512(byte* w, Q8Row x, int superBlocks)
    {
        var acc = Vector512<float>.Zero;
        float mins = 0;
        var low = Vector256.Create((byte)0xF);
        for (int b = 0; b < superBlocks; b++)
        {
            byte* blk = w + 144L * b;
            float dx = x.D[b];
            var scm = PackedScalesMins(blk + 4);
            var sc16 = Avx2.ConvertToVector256Int16(scm).ToVector512Unsafe();   // lanes 0-7 scales (8-15 mins, not indexed)
            int* bs = x.Sums + 16 * b;
            int msum = 0;
            for (int j = 0; j < 8; j++) msum += scm.GetElement(8 + j) * (bs[2 * j] + bs[2 * j + 1]);
            mins += Half(blk + 2) * dx * msum;
            byte* q = blk + 16;
            sbyte* xq = x.Qs + 256 * b;
            var vs = (Q4_KGroup(q, xq, sc16, Q4KScales0, low) + Q4_KGroup(q + 32, xq + 64, sc16, Q4KScales1, low))
                   + (Q4_KGroup(q + 64, xq + 128, sc16, Q4KScales2, low) + Q4_KGroup(q + 96, xq + 192, sc16, Q4KScales3, low));
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(vs), Vector512.Create(Half(blk) * dx), acc);
        }
        return Vector512.Sum(acc) - mins;
    }

    // 32 bytes = 64 weights: low nibbles are sub-block 2g, high nibbles 2g+1; their activations are 64 contiguous bytes.
    // Pair sums ≤ 2·15·127; times a 6-bit scale ≤ 480,060 per int32 lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q4_KGroup(byte* q, sbyte* xq, Vector512<short> scales, Vector512<short> index, Vector256<byte> low)
    {
        var raw = Vector256.Load(q);
        var v = Vector512.Create(raw & low, Vector256.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & low);
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(v, Vector512.Load(xq)), Avx512BW.PermuteVar32x16(scales, index));
    }

    // vpermw indices that spread a super-block's 16 int16 scales over the 32 int16 pair sums of 64 weights (a 16-weight
    // sub-block is 8 pairs): Q6Scales[k] covers sub-blocks 4k..4k+3, i.e. weights 64k..64k+63 of the super-block.
    private static readonly Vector512<short> Q6Scales0 = SubBlockScaleIndex(0), Q6Scales1 = SubBlockScaleIndex(4),
        Q6Scales2 = SubBlockScaleIndex(8), Q6Scales3 = SubBlockScaleIndex(12);

    private static Vector512<short> SubBlockScaleIndex(int first)
    {
        var index = new short[32];
        for (int i = 0; i < 32; i++) index[i] = (short)(first + i / 8);
        return Vector512.Create(index);
    }

    // Q6_K with every per-super-block step in vectors (ggml's AVX2 q6_K order: scales applied by vpmaddwd to the int16
    // pair sums, no per-lane int32 multiply): the 6-bit codes of 64 weights are rebuilt in one 512-bit vector (low
    // nibbles from ql, the 2 high bits from qh moved to bits 4-5 by a variable shift per 256-bit half), multiplied
    // with the activations by vpmaddubsw (|q| ≤ 63, |x| ≤ 127: pair sums ≤ 16,002), and vpmaddwd multiplies each pair
    // sum by its sub-block's scale (vpermw-spread, |sc| ≤ 128: ≤ 4.1 M per lane). ggml's −32 code offset is
    // −32·Σ_j sc_j·bsums_j, one 16-lane product per super-block. The super-block's int32 lanes are scaled into a float
    // accumulator; the one horizontal sum is per row.
    private static float Q6_KAvx512(byte* w, Q8Row x, int superBlocks)
    {
        var acc = Vector512<float>.Zero;
        var low = Vector512.Create((byte)0xF);
        var bits45 = Vector512.Create((byte)0x30);
        // qh bits (0-1, 2-3) → 4-5 for weights l and l+32 (shift left 4, 2); (4-5, 6-7) for l+64 and l+96 (right 0, 2).
        var left = Vector512.Create(Vector256.Create((ushort)4), Vector256.Create((ushort)2));
        var right = Vector512.Create(Vector256.Create((ushort)0), Vector256.Create((ushort)2));
        for (int b = 0; b < superBlocks; b++)
        {
            byte* blk = w + 210L * b;
            sbyte* xq = x.Qs + 256 * b;
            var sc = Vector128.Load((sbyte*)(blk + 192));
            var sc16 = Avx2.ConvertToVector256Int16(sc).ToVector512Unsafe();   // only lanes 0-15 are indexed
            var vs = Vector512<int>.Zero - (Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(sc), Vector512.Load(x.Sums + 16 * b)) << 5);
            vs += Q6_KHalf(blk, blk + 128, xq, sc16, Q6Scales0, Q6Scales1, low, bits45, left, right);
            vs += Q6_KHalf(blk + 64, blk + 160, xq + 128, sc16, Q6Scales2, Q6Scales3, low, bits45, left, right);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(vs), Vector512.Create(Half(blk + 208) * x.D[b]), acc);
        }
        return Vector512.Sum(acc);
    }

    // 128 weights of a Q6_K super-block (ggml's layout: ql[0..63] low nibbles of weights 0-63 and, >> 4, of 64-127;
    // qh[0..31] the 2 high bits of weights l, l+32, l+64, l+96) against their activations, scaled per sub-block.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q6_KHalf(byte* ql, byte* qh, sbyte* xq, Vector512<short> scales, Vector512<short> index01, Vector512<short> index23,
        Vector512<byte> low, Vector512<byte> bits45, Vector512<ushort> left, Vector512<ushort> right)
    {
        var l = Vector512.Load(ql);
        var h = Vector512.Create(Vector256.Load(qh)).AsUInt16();
        var q01 = (l & low) | (Avx512BW.ShiftLeftLogicalVariable(h, left).AsByte() & bits45);
        var q23 = (Vector512.ShiftRightLogical(l.AsUInt16(), 4).AsByte() & low) | (Avx512BW.ShiftRightLogicalVariable(h, right).AsByte() & bits45);
        var p01 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q01, Vector512.Load(xq)), Avx512BW.PermuteVar32x16(scales, index01));
        var p23 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q23, Vector512.Load(xq + 64)), Avx512BW.PermuteVar32x16(scales, index23));
        return p01 + p23;
    }

    // ---------------------------------------------------------------- F16 (float activations)

    // IEEE half bits (zero-extended to 32) → float: the 15 magnitude bits moved to a float's exponent/mantissa
    // position give the value scaled by 2^-112 for normals and subnormals alike (a half subnormal becomes a float
    // subnormal, exact), so one multiply by 2^112 restores it; exponent 31 (inf/NaN) gets the float's all-ones
    // exponent; the sign is moved to bit 31. Exact for every half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HalfToSingle(Vector512<uint> h)
    {
        var m = (h & Vector512.Create(0x7FFFu)) << 13;
        var f = m.AsSingle() * Vector512.Create(5.192296858534828e33f);   // 2^112
        var special = Vector512.GreaterThanOrEqual(m, Vector512.Create(0x7C00u << 13)) & Vector512.Create(0x7F800000u);
        return (f.AsUInt32() | special | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> HalfToSingle(Vector256<uint> h)
    {
        var m = (h & Vector256.Create(0x7FFFu)) << 13;
        var f = m.AsSingle() * Vector256.Create(5.192296858534828e33f);
        var special = Vector256.GreaterThanOrEqual(m, Vector256.Create(0x7C00u << 13)) & Vector256.Create(0x7F800000u);
        return (f.AsUInt32() | special | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    public static float F16(byte* w, float* x, int n, QuantKernelPath path)
    {
        ushort* h = (ushort*)w;
        int j = 0;
        float acc = 0;
        if (path == QuantKernelPath.Avx512 && Avx512F.IsSupported)
        {
            // 32 halves (64 bytes) per step into two accumulators, 64 per iteration: four independent FMA chains.
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; j + 64 <= n; j += 64)
            {
                var v0 = Vector512.Load(h + j);
                var v1 = Vector512.Load(h + j + 32);
                a0 = Avx512F.FusedMultiplyAdd(HalfToSingle(Vector512.WidenLower(v0)), Vector512.Load(x + j), a0);
                a1 = Avx512F.FusedMultiplyAdd(HalfToSingle(Vector512.WidenUpper(v0)), Vector512.Load(x + j + 16), a1);
                a2 = Avx512F.FusedMultiplyAdd(HalfToSingle(Vector512.WidenLower(v1)), Vector512.Load(x + j + 32), a2);
                a3 = Avx512F.FusedMultiplyAdd(HalfToSingle(Vector512.WidenUpper(v1)), Vector512.Load(x + j + 48), a3);
            }
            for (; j + 16 <= n; j += 16)
                a0 = Avx512F.FusedMultiplyAdd(HalfToSingle(Avx512F.ConvertToVector512UInt32(Vector256.Load(h + j))), Vector512.Load(x + j), a0);
            acc = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (path != QuantKernelPath.Scalar && Avx2.IsSupported && Fma.IsSupported)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; j + 32 <= n; j += 32)
            {
                var v0 = Vector256.Load(h + j);
                var v1 = Vector256.Load(h + j + 16);
                a0 = Fma.MultiplyAdd(HalfToSingle(Vector256.WidenLower(v0)), Vector256.Load(x + j), a0);
                a1 = Fma.MultiplyAdd(HalfToSingle(Vector256.WidenUpper(v0)), Vector256.Load(x + j + 8), a1);
                a2 = Fma.MultiplyAdd(HalfToSingle(Vector256.WidenLower(v1)), Vector256.Load(x + j + 16), a2);
                a3 = Fma.MultiplyAdd(HalfToSingle(Vector256.WidenUpper(v1)), Vector256.Load(x + j + 24), a3);
            }
            for (; j + 8 <= n; j += 8)
                a0 = Fma.MultiplyAdd(HalfToSingle(Avx2.ConvertToVector256Int32(h + j).AsUInt32()), Vector256.Load(x + j), a0);
            acc = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; j < n; j++) acc += (float)*(Half*)(h + j) * x[j];
        return acc;
    }

    // ---------------------------------------------------------------- NF4 (float activations)

    public static float Nf4(byte* w, float* x, int blocks, QuantKernelPath path) =>
        Nf4(w + 4, 36, (float*)w, 9, x, blocks, path);

    /// <summary>
    /// The NF4 dot Σ_b scale_b · Σ_j level[q_bj]·x_bj over blocks of 32 code bytes (64 weights) that lie
    /// <paramref name="codeStride"/> bytes apart, with each block's scale <paramref name="scaleStride"/> floats
    /// apart: ggml-style blocks (scale then codes, 36 bytes: <c>Nf4(w + 4, 36, (float*)w, 9, …)</c>) and
    /// double-quantized NF4 (codes packed at 32 bytes, scales decoded into their own row: stride 1) share it.
    /// </summary>
    public static float Nf4(byte* codes, int codeStride, float* scales, int scaleStride, float* x, int blocks, QuantKernelPath path)
    {
        if (path != QuantKernelPath.Scalar && Avx2.IsSupported && Fma.IsSupported)
        {
            if (path is QuantKernelPath.Vnni or QuantKernelPath.Avx512 && QuantKernelPaths.Nf4Avx512) return Nf4Avx512(codes, codeStride, scales, scaleStride, x, blocks);
            return Nf4Avx2(codes, codeStride, scales, scaleStride, x, blocks);
        }
        var levels = Nf4Blocks.Levels;
        float acc = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* q = codes + (long)codeStride * b;
            float* xb = x + 64 * b;
            float s = 0;
            for (int j = 0; j < 32; j++) s += levels[q[j] & 0xF] * xb[j] + levels[q[j] >> 4] * xb[j + 32];
            acc += scales[(long)scaleStride * b] * s;
        }
        return acc;
    }

    private static float Nf4Avx512(byte* codes, int codeStride, float* scales, int scaleStride, float* x, int blocks)
    {
        Vector512<float> table;
        fixed (float* t = Nf4Blocks.Levels) table = Vector512.Load(t);
        var acc = Vector512<float>.Zero;
        var mask = Vector512.Create(0xF);
        for (int b = 0; b < blocks; b++)
        {
            byte* q = codes + (long)codeStride * b;
            float* xb = x + 64 * b;
            var s = Vector512<float>.Zero;
            for (int h = 0; h < 2; h++)
            {
                var c = Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(q + 16 * h));
                var lo = Avx512F.PermuteVar16x32(table, Avx512F.And(c, mask));
                var hi = Avx512F.PermuteVar16x32(table, Avx512F.ShiftRightLogical(c, 4));
                s = Avx512F.FusedMultiplyAdd(lo, Avx512F.LoadVector512(xb + 16 * h), s);
                s = Avx512F.FusedMultiplyAdd(hi, Avx512F.LoadVector512(xb + 32 + 16 * h), s);
            }
            acc = Avx512F.FusedMultiplyAdd(s, Vector512.Create(scales[(long)scaleStride * b]), acc);
        }
        return Vector512.Sum(acc);
    }

    private static float Nf4Avx2(byte* codes, int codeStride, float* scales, int scaleStride, float* x, int blocks)
    {
        Vector256<float> t0, t1;
        fixed (float* t = Nf4Blocks.Levels) { t0 = Avx.LoadVector256(t); t1 = Avx.LoadVector256(t + 8); }
        var acc = Vector256<float>.Zero;
        var mask = Vector256.Create(0xF);
        var eight = Vector256.Create(8);
        for (int b = 0; b < blocks; b++)
        {
            byte* q = codes + (long)codeStride * b;
            float* xb = x + 64 * b;
            var s = Vector256<float>.Zero;
            for (int k = 0; k < 4; k++)
            {
                var c = Avx2.ConvertToVector256Int32(q + 8 * k);
                var lo = Avx2.And(c, mask);
                var hi = Avx2.ShiftRightLogical(c, 4);
                // Codes 0-7 from the first half of the table, 8-15 from the second (selected by bit 3).
                var vlo = Avx.BlendVariable(Avx2.PermuteVar8x32(t0, lo), Avx2.PermuteVar8x32(t1, lo), Avx2.CompareGreaterThan(eight, lo).AsSingle() ^ Vector256<float>.AllBitsSet);
                var vhi = Avx.BlendVariable(Avx2.PermuteVar8x32(t0, hi), Avx2.PermuteVar8x32(t1, hi), Avx2.CompareGreaterThan(eight, hi).AsSingle() ^ Vector256<float>.AllBitsSet);
                s = Fma.MultiplyAdd(vlo, Avx.LoadVector256(xb + 8 * k), s);
                s = Fma.MultiplyAdd(vhi, Avx.LoadVector256(xb + 32 + 8 * k), s);
            }
            acc = Fma.MultiplyAdd(s, Vector256.Create(scales[(long)scaleStride * b]), acc);
        }
        return Sum(acc);
    }
}
