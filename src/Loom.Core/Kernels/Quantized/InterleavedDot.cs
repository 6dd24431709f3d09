// Matrix-vector kernels over InterleavedBlocks groups: 16 output rows per call, one int32 lane (and one float
// accumulator lane) per row, so there is no horizontal sum per row, and a block's 16 fp16 scales are widened in
// one vector instead of one by one in scalar code (what bounded the per-row Q4_0 kernel: its nibbles are cheap,
// its two scalar fp16 conversions and offset products per 32 weights were not). With the activations in 8 bits
// (Q8Row: qs, d and Σqs per 32-block), for each row r:
//   Q4_0: y_r = Σ_b d_rb·dx_b·(Σ_j u_rbj·x_bj −   8·Σ_j x_bj)   u the stored nibble (ggml's q; w = d·(q − 8))
//   Q8_0: y_r = Σ_b d_rb·dx_b·(Σ_j u_rbj·x_bj − 128·Σ_j x_bj)   u = w + 128, as InterleavedBlocks stores it
// Paths (ggml's x86 dot products, ggml-cpu/arch/x86/quants.c, reorganised over 16 rows as its repacked GEMV):
//   AVX-512BW: a 64-byte load is 4 weights of each of the 16 rows; vpmaddubsw with the activations' 4-byte word
//     broadcast to every lane, then vpmaddwd leaves one int32 per row. The int16 pair sums are added before the
//     vpmaddwd: each is ≤ 2·15·127 = 3,810 in magnitude, so 8 of them (a Q4_0 block: 4 words × low and high
//     nibbles) stay ≤ 30,480 < 32,767. Q8_0's u ≤ 255 would saturate vpmaddubsw's pair sums (2·255·127), so u
//     is split as 16·hi + lo into two 4-bit products like Q4_0's (.NET 10 has no 512-bit vpdpbusd: AVX512-VNNI
//     has no API class).
//   AVX-VNNI (256): vpdpbusd multiplies u8 × s8 and accumulates into int32 in one instruction, rows 0-7 and 8-15
//     in two registers; Q8_0 takes the stored u as they are.
//   AVX2: vpmaddubsw + vpmaddwd per word; Q8_0 restores w = u ^ 0x80 and uses ggml's sign trick (|w|·sign(x, w)),
//     so it has no offset.
//   Scalar: the reference — the same integer sums and float expression, in the same order, as QuantizedDot's
//     per-row scalar kernels, so it equals them bit for bit.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels.Quantized;

internal static unsafe class InterleavedDot
{
    /// <summary>y[0..16) = the 16 rows of the Q4_0 group at <paramref name="g"/> (<paramref name="blocks"/> blocks per row) dotted with <paramref name="x"/>.</summary>
    public static void Q4_0(byte* g, Q8Row x, int blocks, QuantKernelPath path, float* y)
    {
        byte* scales = g + InterleavedBlocks.ScaleOffset(QuantFormat.Q4_0, blocks);
        if (path == QuantKernelPath.Avx512 && QuantKernelPaths.IsSupported(QuantKernelPath.Avx512)) Q4_0Avx512(g, scales, x, blocks, y);
        else if (path == QuantKernelPath.Vnni && QuantKernelPaths.IsSupported(QuantKernelPath.Vnni)) Q4_0Avx256<VnniDot>(g, scales, x, blocks, y);
        else if (path != QuantKernelPath.Scalar && QuantKernelPaths.IsSupported(QuantKernelPath.Avx2)) Q4_0Avx256<Avx2Dot>(g, scales, x, blocks, y);
        else Scalar(g, scales, x, blocks, y, q8: false);
    }

    /// <summary>y[0..16) = the 16 rows of the Q8_0 group at <paramref name="g"/> (<paramref name="blocks"/> blocks per row) dotted with <paramref name="x"/>.</summary>
    public static void Q8_0(byte* g, Q8Row x, int blocks, QuantKernelPath path, float* y)
    {
        byte* scales = g + InterleavedBlocks.ScaleOffset(QuantFormat.Q8_0, blocks);
        if (path == QuantKernelPath.Avx512 && QuantKernelPaths.IsSupported(QuantKernelPath.Avx512)) Q8_0Avx512(g, scales, x, blocks, y);
        else if (path == QuantKernelPath.Vnni && QuantKernelPaths.IsSupported(QuantKernelPath.Vnni)) Q8_0Avx256<VnniDot>(g, scales, x, blocks, y);
        else if (path != QuantKernelPath.Scalar && QuantKernelPaths.IsSupported(QuantKernelPath.Avx2)) Q8_0Avx256<Avx2Dot>(g, scales, x, blocks, y);
        else Scalar(g, scales, x, blocks, y, q8: true);
    }

    // The scales of a group lie after its quants, so a kernel reads two streams per group: the quants (long, found by
    // the hardware prefetcher) and the scales (blocks·32 bytes, restarting every group — too short to train it; measured
    // under load, Q8_0 groups ran at 12 GB/s vs 16.5 for ggml's per-row layout, whose scales sit inside its one stream).
    // So the first 4 scale lines are prefetched at entry and each block prefetches the line 8 blocks ahead.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchScales(byte* scales)
    {
        if (!Sse.IsSupported) return;
        Sse.Prefetch0(scales);
        Sse.Prefetch0(scales + 64);
        Sse.Prefetch0(scales + 128);
        Sse.Prefetch0(scales + 192);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(byte* scales, int b)
    {
        if (Sse.IsSupported && (b & 1) == 0) Sse.Prefetch0(scales + 32L * b + 256);
    }

    // ---------------------------------------------------------------- scalar (the reference)

    private static void Scalar(byte* g, byte* scales, Q8Row x, int blocks, float* y, bool q8)
    {
        int blockQuants = q8 ? 512 : 256;   // 16 rows × 32 or 16 payload bytes
        for (int r = 0; r < InterleavedBlocks.Rows; r++)
        {
            float acc = 0;
            for (int b = 0; b < blocks; b++)
            {
                byte* q = g + (long)b * blockQuants + 4 * r;
                sbyte* xq = x.Qs + 32 * b;
                int s = 0;
                if (q8)
                {
                    for (int c = 0; c < 8; c++)
                        for (int i = 0; i < 4; i++) s += (sbyte)(q[64 * c + i] ^ 0x80) * xq[4 * c + i];
                }
                else
                {
                    for (int c = 0; c < 4; c++)
                        for (int i = 0; i < 4; i++) s += (q[64 * c + i] & 0xF) * xq[4 * c + i] + (q[64 * c + i] >> 4) * xq[16 + 4 * c + i];
                    s -= 8 * x.Sums[b];
                }
                acc += QuantizedDot.Half(scales + 32L * b + 2 * r) * x.D[b] * s;
            }
            y[r] = acc;
        }
    }

    // ---------------------------------------------------------------- AVX-512BW

    // The 16 fp16 scales of a block (rows 0-15) as floats, times the activation block's scale.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales(byte* h, float dx) =>
        QuantizedDot.HalfToSingle(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)h))) * Vector512.Create(dx);

    // An activation word (4 int8) in every 32-bit lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Word(int* w) => Vector512.Create(*w).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> High(Vector512<byte> v, Vector512<byte> low) => Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;

    private static void Q4_0Avx512(byte* g, byte* scales, Q8Row x, int blocks, float* y)
    {
        var acc = Vector512<float>.Zero;
        var low = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        PrefetchScales(scales);
        for (int b = 0; b < blocks; b++)
        {
            PrefetchAhead(scales, b);
            byte* q = g + 256L * b;
            int* xw = (int*)(x.Qs + 32 * b);   // xw[c]: activations 4c..4c+3 (low nibbles of word c); xw[4 + c]: 16+4c.. (high)
            var v0 = Vector512.Load(q);
            var v1 = Vector512.Load(q + 64);
            var v2 = Vector512.Load(q + 128);
            var v3 = Vector512.Load(q + 192);
            var s0 = Avx512BW.MultiplyAddAdjacent(v0 & low, Word(xw)) + Avx512BW.MultiplyAddAdjacent(High(v0, low), Word(xw + 4));
            var s1 = Avx512BW.MultiplyAddAdjacent(v1 & low, Word(xw + 1)) + Avx512BW.MultiplyAddAdjacent(High(v1, low), Word(xw + 5));
            var s2 = Avx512BW.MultiplyAddAdjacent(v2 & low, Word(xw + 2)) + Avx512BW.MultiplyAddAdjacent(High(v2, low), Word(xw + 6));
            var s3 = Avx512BW.MultiplyAddAdjacent(v3 & low, Word(xw + 3)) + Avx512BW.MultiplyAddAdjacent(High(v3, low), Word(xw + 7));
            var dot = Avx512BW.MultiplyAddAdjacent((s0 + s1) + (s2 + s3), ones) - Vector512.Create(8 * x.Sums[b]);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), Scales(scales + 32L * b, x.D[b]), acc);
        }
        acc.Store(y);
    }

    private static void Q8_0Avx512(byte* g, byte* scales, Q8Row x, int blocks, float* y)
    {
        var acc = Vector512<float>.Zero;
        var low = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        var sixteen = Vector512.Create((short)16);
        PrefetchScales(scales);
        for (int b = 0; b < blocks; b++)
        {
            PrefetchAhead(scales, b);
            byte* q = g + 512L * b;
            int* xw = (int*)(x.Qs + 32 * b);
            var lo = Vector512<short>.Zero;
            var hi = Vector512<short>.Zero;
            for (int c = 0; c < 8; c += 2)
            {
                var v0 = Vector512.Load(q + 64 * c);
                var v1 = Vector512.Load(q + 64 * c + 64);
                var x0 = Word(xw + c);
                var x1 = Word(xw + c + 1);
                lo += Avx512BW.MultiplyAddAdjacent(v0 & low, x0) + Avx512BW.MultiplyAddAdjacent(v1 & low, x1);
                hi += Avx512BW.MultiplyAddAdjacent(High(v0, low), x0) + Avx512BW.MultiplyAddAdjacent(High(v1, low), x1);
            }
            var dot = Avx512BW.MultiplyAddAdjacent(lo, ones) + Avx512BW.MultiplyAddAdjacent(hi, sixteen) - Vector512.Create(128 * x.Sums[b]);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), Scales(scales + 32L * b, x.D[b]), acc);
        }
        acc.Store(y);
    }

    // ---------------------------------------------------------------- 256-bit (AVX-VNNI, AVX2): rows 0-7 and 8-15

    // The int8 product of one 32-byte vector with an activation word, accumulated into int32 (a struct per
    // instruction set, so each instantiation compiles to straight-line code).
    private interface IDot256
    {
        /// <summary>acc + Σ₄ u·s (u unsigned ≤ 15 or ≤ 255, s signed).</summary>
        static abstract Vector256<int> Unsigned(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);

        /// <summary>acc + Σ₄ of Q8_0's stored u (= w + 128) times s, minus <see cref="Q8Offset"/>·Σ s.</summary>
        static abstract Vector256<int> Q8(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);

        /// <summary>What Q8 adds per Σ s: 128 when it multiplies u, 0 when it restores w.</summary>
        static abstract int Q8Offset { get; }
    }

    private struct VnniDot : IDot256
    {
        public static Vector256<int> Unsigned(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(acc, u, s);
        public static Vector256<int> Q8(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(acc, u, s);
        public static int Q8Offset => 128;
    }

    private struct Avx2Dot : IDot256
    {
        public static Vector256<int> Unsigned(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
            acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1));

        public static Vector256<int> Q8(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s)
        {
            var w = (u ^ Vector256.Create((byte)0x80)).AsSByte();
            return acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(s, w)), Vector256.Create((short)1));
        }

        public static int Q8Offset => 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Word256(int* w) => Vector256.Create(*w).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scales(byte* h, float dx, out Vector256<float> d0, out Vector256<float> d1)
    {
        var v = Vector256.Create(dx);
        d0 = QuantizedDot.HalfToSingle(Avx2.ConvertToVector256Int32((ushort*)h).AsUInt32()) * v;
        d1 = QuantizedDot.HalfToSingle(Avx2.ConvertToVector256Int32((ushort*)h + 8).AsUInt32()) * v;
    }

    private static void Q4_0Avx256<T>(byte* g, byte* scales, Q8Row x, int blocks, float* y) where T : struct, IDot256
    {
        Vector256<float> acc0 = default, acc1 = default;
        var low = Vector256.Create((byte)0x0F);
        PrefetchScales(scales);
        for (int b = 0; b < blocks; b++)
        {
            PrefetchAhead(scales, b);
            byte* q = g + 256L * b;
            int* xw = (int*)(x.Qs + 32 * b);
            Vector256<int> i0 = default, i1 = default;   // rows 0-7, rows 8-15
            for (int c = 0; c < 4; c++)
            {
                var v0 = Avx.LoadVector256(q + 64 * c);
                var v1 = Avx.LoadVector256(q + 64 * c + 32);
                var xl = Word256(xw + c);
                var xh = Word256(xw + 4 + c);
                i0 = T.Unsigned(i0, v0 & low, xl);
                i1 = T.Unsigned(i1, v1 & low, xl);
                i0 = T.Unsigned(i0, Vector256.ShiftRightLogical(v0.AsUInt16(), 4).AsByte() & low, xh);
                i1 = T.Unsigned(i1, Vector256.ShiftRightLogical(v1.AsUInt16(), 4).AsByte() & low, xh);
            }
            var corr = Vector256.Create(8 * x.Sums[b]);
            Scales(scales + 32L * b, x.D[b], out var d0, out var d1);
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i0 - corr), d0, acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i1 - corr), d1, acc1);
        }
        acc0.Store(y);
        acc1.Store(y + 8);
    }

    private static void Q8_0Avx256<T>(byte* g, byte* scales, Q8Row x, int blocks, float* y) where T : struct, IDot256
    {
        Vector256<float> acc0 = default, acc1 = default;
        PrefetchScales(scales);
        for (int b = 0; b < blocks; b++)
        {
            PrefetchAhead(scales, b);
            byte* q = g + 512L * b;
            int* xw = (int*)(x.Qs + 32 * b);
            Vector256<int> i0 = default, i1 = default;
            for (int c = 0; c < 8; c++)
            {
                var xs = Word256(xw + c);
                i0 = T.Q8(i0, Avx.LoadVector256(q + 64 * c), xs);
                i1 = T.Q8(i1, Avx.LoadVector256(q + 64 * c + 32), xs);
            }
            var corr = Vector256.Create(T.Q8Offset * x.Sums[b]);
            Scales(scales + 32L * b, x.D[b], out var d0, out var d1);
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i0 - corr), d0, acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i1 - corr), d1, acc1);
        }
        acc0.Store(y);
        acc1.Store(y + 8);
    }
}
