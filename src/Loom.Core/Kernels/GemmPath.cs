// Which micro-kernel a GEMM runs. Chosen once per process from what the CPU (and the runtime's
// DOTNET_Enable* switches) allow: the widest available wins. Tests and benchmarks may ask for a
// narrower one explicitly, so every path is exercised on an AVX-512 machine too.
namespace Loom.Core.Kernels;

/// <summary>A GEMM micro-kernel, by the instruction set it needs.</summary>
public enum GemmPath : byte
{
    /// <summary>Portable 6×16 kernel in plain C# (no FMA; any CPU).</summary>
    Scalar,
    /// <summary>6×16 tile in 12 ymm accumulators (AVX2 + FMA).</summary>
    Avx2,
    /// <summary>12×32 tile in 24 zmm accumulators (AVX-512F).</summary>
    Avx512,
}
