// OpenBLAS as the GEMM anchor, called through P/Invoke when Debian's libopenblas0-pthread is
// installed (apt-get install libopenblas0-pthread). The bench installs nothing itself.
// OpenBLAS picks its kernels (Haswell = AVX2, SkylakeX = AVX-512, ...) once, when the library
// loads, from OPENBLAS_CORETYPE or the CPU; the gemm suite therefore runs each core type in its
// own child process (OpenBlasChild) and reports openblas_get_corename() for each.
using System.Runtime.InteropServices;

namespace Loom.Bench.Anchors;

/// <summary>Access to OpenBLAS's cblas_sgemm, if the library can be loaded.</summary>
internal static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly string[] Candidates =
    [
        "libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
        "libopenblas.so",
    ];

    private static readonly nint s_handle = Load();
    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged<int, void> s_setThreads;
    private static readonly delegate* unmanaged<byte*> s_coreName;

    static OpenBlas()
    {
        if (s_handle == 0) return;
        s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(s_handle, "cblas_sgemm");
        if (NativeLibrary.TryGetExport(s_handle, "openblas_set_num_threads", out var st))
            s_setThreads = (delegate* unmanaged<int, void>)st;
        if (NativeLibrary.TryGetExport(s_handle, "openblas_get_corename", out var cn))
            s_coreName = (delegate* unmanaged<byte*>)cn;
    }

    /// <summary>The kernel family OpenBLAS selected at load (e.g. "Haswell", "SkylakeX"), or null.</summary>
    public static string? CoreName => s_coreName == null ? null : Marshal.PtrToStringUTF8((nint)s_coreName());

    public static bool IsAvailable => s_handle != 0;

    public static string? LoadedFrom { get; private set; }

    private static nint Load()
    {
        foreach (var c in Candidates)
            if (NativeLibrary.TryLoad(c, out var h)) { LoadedFrom = c; return h; }
        return 0;
    }

    public static void SetThreads(int n)
    {
        if (s_setThreads != null) s_setThreads(n);
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) =>
        s_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
