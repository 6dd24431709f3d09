// Register tile (MR×NR) and cache blocks (KC, MC, NC) of one GEMM micro-kernel, after BLIS
// (Van Zee & van de Geijn, TOMS 2015): the KC×NR micro-panel of packed B stays in L1d, the
// MC×KC block of packed A in L2, the KC×NC block of packed B in L3.
namespace Loom.Core.Kernels;

internal readonly record struct GemmBlocking(GemmPath Path, int MR, int NR, int KC, int MC, int NC)
{
    // AVX2: KC·NR·4 = 16 KiB (B micro-panel in L1d); MC·KC·4 = 144 KiB (A block in L2);
    // KC·NC·4 = 4 MiB (B block in L3). Chosen by the `gemm` suite's sweep (AVX2 era).
    public static readonly GemmBlocking Avx2 = new(GemmPath.Avx2, 6, 16, 256, 144, 4096);

    // AVX-512: KC·NR·4 = 32 KiB (B micro-panel, in Zen 5's 48 KiB L1d with the A micro-panel's
    // 12 KiB); MC·KC·4 = 144 KiB (A block, in the 1 MiB L2); KC·NC·4 = 4 MiB. MC is a multiple of
    // MR. A sweep of KC ∈ {192, 256, 384, 512} × MC ∈ {144, 288, 480} on GPT-2 shapes (thread CPU
    // time, one thread, shared machine) found no setting better than this one beyond the noise (±10%).
    public static readonly GemmBlocking Avx512 = new(GemmPath.Avx512, 12, 32, 256, 144, 4096);

    public static readonly GemmBlocking Scalar = Avx2 with { Path = GemmPath.Scalar };

    public static GemmBlocking For(GemmPath path) => path switch
    {
        GemmPath.Avx512 => Avx512,
        GemmPath.Avx2 => Avx2,
        _ => Scalar,
    };

    // Gemm.Serial makes M ≤ MaxMC one block (MC per call, a multiple of MR ≤ MaxMC), so the
    // A buffer holds MaxMC rows: 288·256·4 = 288 KiB, within the 1 MiB L2 with B's micro-panels.
    public const int MaxMC = 288;

    // Largest packing buffers and edge tile over every path, so one per-thread scratch serves all.
    public const int MaxPackA = MaxMC * 256;
    public const int MaxPackB = 256 * 4096;
    public const int MaxTile = 12 * 32;
}
