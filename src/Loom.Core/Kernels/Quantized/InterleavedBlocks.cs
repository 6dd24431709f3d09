// A load-time layout for Q4_0 (and Q8_0, see Applies) weights, for 16-row matrix-vector kernels:
// rows in groups of 16, each group's blocks interleaved so one 64-byte load holds 4 bytes of each of the
// 16 rows (llama.cpp's CPU backend repacks Q4_0 the same way at load time: ggml-cpu/repack.cpp,
// block_q4_0x8 and ggml_gemv_q4_0_8x8_q8_0, 8 rows × 8 bytes; here 16 rows × 4 bytes, so that one
// vpmaddubsw + vpmaddwd over a 64-byte load leaves exactly one int32 lane per row).
//
// One group (16 rows of `blocks` blocks; S = block bytes, P = S − 2 payload bytes) is 16·blocks·S bytes —
// the same as its 16 ggml rows, so row o's data still starts at o·RowBytes for the rows after the last
// full group, which stay in ggml's layout:
//   quants  [b][c][r][4]   at b·16P + 64c + 4r   (b < blocks, c < P/4 four-byte words, r < 16)
//   scales  [b][r] fp16    at blocks·16P + 32b + 2r
// The quants come first so every 64-byte load is cache-line aligned when the group is (blocks even:
// GPT-2's 768, 2304 and 3072 columns all are). Word c of a row is its ggml payload bytes [4c, 4c + 4):
//   Q4_0 (P = 16): low nibbles are weights 4c..4c+3, high nibbles weights 16+4c..16+4c+3;
//   Q8_0 (P = 32): weights 4c..4c+3, stored XOR 0x80 = w + 128 as unsigned bytes, so AVX-VNNI's
//     vpdpbusd (unsigned × signed) takes them as they are: Σ(w + 128)·x = Σ w·x + 128·Σ x, Σ x per
//     activation block being precomputed (Q8Row.Sums), as Q4_0's Σ(q − 8)·x = Σ q·x − 8·Σ x.
// The layout is the same for every kernel path; Blocks and DequantizeRows undo it (GGUF and model files
// keep ggml's layout).
namespace Loom.Core.Kernels.Quantized;

internal static unsafe class InterleavedBlocks
{
    /// <summary>Rows per interleaved group.</summary>
    public const int Rows = 16;

    /// <summary>
    /// True for the formats QuantizedMatrix holds interleaved: Q4_0 only. Q8_0's layout and kernels are here and
    /// tested, but measured slower than ggml's per-row layout (`quant --filter matvec`, 1 thread, CPU time under load
    /// ~35, 2026-12-02 13:24-13:28: 12.1-12.3 GB/s vs 16.6-18.1 with AVX-VNNI, 9.6-10.0 vs 14.7-15.4 with AVX-512;
    /// Q4_0: 11.6 vs 9.2 at best), so Q8_0 matrices stay in ggml's layout until that is understood.
    /// </summary>
    public static bool Applies(QuantFormat format) => format is QuantFormat.Q4_0;

    private static uint XorWord(QuantFormat format) => format == QuantFormat.Q8_0 ? 0x80808080u : 0u;

    /// <summary>Offset of the scales in a group of <paramref name="blocks"/> blocks per row.</summary>
    public static long ScaleOffset(QuantFormat format, int blocks) => (long)blocks * Rows * (QuantFormatInfo.BlockBytes(format) - 2);

    /// <summary>Writes 16 ggml rows (<paramref name="rowBytes"/> apart at <paramref name="source"/>) as one group at <paramref name="group"/>.</summary>
    public static void Interleave(QuantFormat format, byte* source, long rowBytes, int blocks, byte* group)
    {
        int s = QuantFormatInfo.BlockBytes(format), words = (s - 2) / 4;
        uint xor = XorWord(format);
        byte* scales = group + ScaleOffset(format, blocks);
        for (int b = 0; b < blocks; b++)
        {
            byte* q = group + (long)b * Rows * (s - 2);
            for (int r = 0; r < Rows; r++)
            {
                byte* blk = source + r * rowBytes + (long)b * s;
                *(ushort*)(scales + 32L * b + 2 * r) = *(ushort*)blk;
                for (int c = 0; c < words; c++) *(uint*)(q + 64 * c + 4 * r) = *(uint*)(blk + 2 + 4 * c) ^ xor;
            }
        }
    }

    /// <summary>Writes row <paramref name="r"/> of the group at <paramref name="group"/> in ggml's layout to <paramref name="row"/>.</summary>
    public static void Deinterleave(QuantFormat format, byte* group, int r, int blocks, byte* row)
    {
        int s = QuantFormatInfo.BlockBytes(format), words = (s - 2) / 4;
        uint xor = XorWord(format);
        byte* scales = group + ScaleOffset(format, blocks);
        for (int b = 0; b < blocks; b++)
        {
            byte* q = group + (long)b * Rows * (s - 2);
            byte* blk = row + (long)b * s;
            *(ushort*)blk = *(ushort*)(scales + 32L * b + 2 * r);
            for (int c = 0; c < words; c++) *(uint*)(blk + 2 + 4 * c) = *(uint*)(q + 64 * c + 4 * r) ^ xor;
        }
    }
}
