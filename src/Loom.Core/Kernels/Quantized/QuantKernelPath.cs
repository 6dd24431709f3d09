// Which instruction set a quantized dot product runs on. The widest the CPU has is chosen once;
// tests force each path so every one runs on any machine that has it (CI also reruns the Core tests
// with DOTNET_EnableAVX2=0 / DOTNET_EnableHWIntrinsic=0, which leaves only the scalar path, and
// DOTNET_EnableAVX512F=0 leaves the 256-bit ones).
using System.Runtime.Intrinsics.X86;

namespace Loom.Core.Kernels.Quantized;

/// <summary>Instruction set of the quantized dot-product kernels.</summary>
public enum QuantKernelPath
{
    /// <summary>Plain C#: the reference the SIMD paths are tested against.</summary>
    Scalar,
    /// <summary>AVX2: unsigned×signed byte products (vpmaddubsw) widened with vpmaddwd, as ggml's AVX2 path.</summary>
    Avx2,
    /// <summary>AVX-VNNI: vpdpbusd multiplies and accumulates bytes into int32 in one instruction (int8 formats); AVX-512F vpermps table lookup (NF4).</summary>
    Vnni,
    /// <summary>
    /// AVX-512BW: 64-byte vpmaddubsw + vpmaddwd — 4 weights of each of 16 rows per instruction for Q4_0 (held
    /// interleaved, InterleavedDot), two blocks for Q8_0, two k-quant groups for Q4_K/Q6_K. .NET 10 exposes no 512-bit vpdpbusd
    /// (AVX512-VNNI has no API class; AvxVnniInt8.V512 is AVX10.2), so this is ggml's AVX-512 path without VNNI.
    /// F16 weights widen 16 halves to floats per instruction.
    /// </summary>
    Avx512,
}

/// <summary>The paths this CPU (and this process's DOTNET_Enable* settings) can run.</summary>
public static class QuantKernelPaths
{
    /// <summary>
    /// The widest supported path: AVX-512 (measured fastest on Zen 5 for Q8_0/Q4_0 decode, docs/PERFORMANCE.md), then
    /// AVX-VNNI, AVX2, scalar.
    /// </summary>
    public static QuantKernelPath Best { get; } = IsSupported(QuantKernelPath.Avx512) ? QuantKernelPath.Avx512
        : AvxVnni.IsSupported && Avx2.IsSupported ? QuantKernelPath.Vnni
        : Avx2.IsSupported && Fma.IsSupported ? QuantKernelPath.Avx2 : QuantKernelPath.Scalar;

    /// <summary>
    /// The path a matrix of <paramref name="format"/> uses by default: the widest for every format. Measured with
    /// `quant --filter matvec` (GPT-2's 50,257 × 768 head, 1 thread, CPU time on the shared Zen 5 under load ~35,
    /// 2026-12-02 13:20-13:43), GB/s: Q4_0 (16-row groups) 11.4-11.6 AVX-512 vs 7.6-9.0 VNNI; Q4_K 4.9-7.5 vs 3.5-3.8;
    /// Q6_K 7.2-8.7 vs 3.1-4.1; F16 14.1-18.8 vs 9.8-11.5; Q8_0 (ggml rows) was mixed — VNNI ahead in two runs
    /// (16.6 vs 14.7, 18.1 vs 15.4), AVX-512 in the third (15.5 vs 10.2) and in the morning's (17.2 vs 16.1) — so it
    /// keeps AVX-512.
    /// </summary>
    public static QuantKernelPath BestFor(QuantFormat format) => Best;

    /// <summary>True when <paramref name="path"/> runs here.</summary>
    public static bool IsSupported(QuantKernelPath path) => path switch
    {
        QuantKernelPath.Scalar => true,
        QuantKernelPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        QuantKernelPath.Vnni => AvxVnni.IsSupported && Avx2.IsSupported,
        QuantKernelPath.Avx512 => Avx512BW.IsSupported && Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported,
        _ => false,
    };

    /// <summary>NF4's float path widens to 512 bits (one vpermps holds the whole 16-level table) when AVX-512F is on.</summary>
    internal static bool Nf4Avx512 => Avx512F.IsSupported;
}
