using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels;

public class GemmTests
{
    private static double[] Naive(Transpose ta, Transpose tb, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        var r = new double[c.Length];
        for (int i = 0; i < c.Length; i++) r[i] = c[i];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = ta == Transpose.No ? a[i * lda + p] : a[p * lda + i];
                    double bv = tb == Transpose.No ? b[p * ldb + j] : b[j * ldb + p];
                    s += av * bv;
                }
                r[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
        return r;
    }

    // Every micro-kernel this machine can run: AVX-512, AVX2 and scalar on an AVX-512 machine, so
    // each path is checked in every test run (CI also reruns with DOTNET_Enable* switches off).
    public static IEnumerable<GemmPath> Paths() => Enum.GetValues<GemmPath>().Where(Gemm.IsSupported);

    public static IEnumerable<object[]> Sizes()
    {
        // Every m, n, k in 1..67 appears (all micro-tile tails of MR=6/12 and NR=16/32), then sizes
        // that cross the KC=256, MC=144/288 and NC=4096 blocking boundaries, on every path.
        foreach (var path in Paths())
        {
            for (int s = 1; s <= 67; s++) yield return [path, s, (s * 7) % 67 + 1, (s * 13) % 67 + 1];
            yield return [path, 145, 33, 257];
            yield return [path, 301, 47, 517];
            yield return [path, 7, 4099, 5];
            yield return [path, 64, 64, 64];
            yield return [path, 289, 70, 9];
            // The blocked path (k > 128) with M ≤ 288 in one block and 8 (20 = 12 + 8) or 7 rows
            // left for the 4-row edge kernel, N across NC = 4096 with a partial last panel, and
            // k just over the small-path limit and KC (129, 257: balanced k blocks).
            yield return [path, 20, 40, 129];
            yield return [path, 31, 4133, 131];
            yield return [path, 256, 64, 300];
            // The small path with full panels read in place and partial ones packed (m = 64 =
            // 5·12 + 4, n = 33 = 32 + 1, n = 96 = 3·32), and k at its limit of 128.
            yield return [path, 64, 96, 128];
            yield return [path, 61, 33, 127];
        }
    }

    [Fact]
    public void SelectsTheWidestSupportedPath()
    {
        var want = Gemm.IsSupported(GemmPath.Avx512) ? GemmPath.Avx512 : Gemm.IsSupported(GemmPath.Avx2) ? GemmPath.Avx2 : GemmPath.Scalar;
        Assert.Equal(want, Gemm.SelectedPath);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, Gemm.IsSupported(GemmPath.Avx512));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MatchesNaiveInEveryLayout(GemmPath path, int m, int n, int k)
    {
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
            foreach (var tb in new[] { Transpose.No, Transpose.Yes })
            {
                int lda = ta == Transpose.No ? k + 3 : m + 1;  // padded leading dimensions
                int ldb = tb == Transpose.No ? n + 2 : k;
                int ldc = n + 5;
                var a = TestUtil.Random(1, (ta == Transpose.No ? m : k) * lda);
                var b = TestUtil.Random(2, (tb == Transpose.No ? k : n) * ldb);
                var c = TestUtil.Random(3, m * ldc);
                var want = Naive(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 2f, c, ldc);
                Gemm.Sgemm(path, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 2f, c, ldc);
                TestUtil.Close(want, c, 1e-5, 1e-5 * Math.Sqrt(k), $"{path} {ta}{tb} {m}x{n}x{k}");
            }
    }

    [Theory]
    [MemberData(nameof(PathCases))]
    public void BetaZeroDoesNotReadC(GemmPath path)
    {
        int m = 13, n = 39, k = 7;
        var a = TestUtil.Random(1, m * k);
        var b = TestUtil.Random(2, k * n);
        var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
        Gemm.Sgemm(path, Transpose.No, Transpose.No, m, n, k, 1f, a, k, b, n, 0f, c, n);
        Assert.All(c, v => Assert.False(float.IsNaN(v)));
    }

    [Fact]
    public void KZeroScalesC()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.Sgemm(Transpose.No, Transpose.No, 2, 2, 0, 1f, [], 1, [], 2, 3f, c, 2);
        Assert.Equal(new float[] { 3, 6, 9, 12 }, c);
    }

    public static IEnumerable<object[]> PathCases() => Paths().Select(p => new object[] { p });

    [Theory]
    [MemberData(nameof(PathCases))]
    public void ResultIsIdenticalForEveryThreadCount(GemmPath path)
    {
        foreach (var (m, n, k) in new[] { (200, 100, 300), (50, 400, 129) })
        {
            var a = TestUtil.Random(4, m * k);
            var b = TestUtil.Random(5, n * k);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var pool = new WorkerPool(threads);
                var c = new float[m * n];
                Gemm.Sgemm(path, Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, c, n, pool);
                if (first == null) first = c;
                else Assert.Equal(first, c);
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathCases))]
    public void PackingBPerPanelGivesTheBitsOfPackingABlock(GemmPath path)
    {
        // M ≤ 288 (one block of A) packs B one micro-panel at a time and prefetches the next panel's
        // and the next k block's sources; the block driver packs a KC×NC block first. Same tiles, same
        // kernels, same k order: identical results, in every layout, on 1 and 2 threads, across k blocks
        // (k = 517: 2 blocks; 300: 2), the 4-row edge (256 = 21·12 + 4), partial panels and NC = 4096.
        foreach (var (m, n, k) in new[] { (256, 100, 517), (13, 4133, 300), (288, 65, 257), (37, 33, 129) })
            foreach (var ta in new[] { Transpose.No, Transpose.Yes })
                foreach (var tb in new[] { Transpose.No, Transpose.Yes })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        int lda = ta == Transpose.No ? k + 1 : m + 3, ldb = tb == Transpose.No ? n + 2 : k + 5;
                        var a = TestUtil.Random(8, (ta == Transpose.No ? m : k) * lda);
                        var b = TestUtil.Random(9, (tb == Transpose.No ? k : n) * ldb);
                        var c0 = TestUtil.Random(10, m * n);
                        var perPanel = (float[])c0.Clone();
                        var block = (float[])c0.Clone();
                        using var pool = new WorkerPool(threads);
                        try
                        {
                            Gemm.PackBPerPanel = true;
                            Gemm.Sgemm(path, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1.5f, perPanel, n, pool);
                            Gemm.PackBPerPanel = false;
                            Gemm.Sgemm(path, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1.5f, block, n, pool);
                        }
                        finally
                        {
                            Gemm.PackBPerPanel = true;
                        }
                        Assert.Equal(block, perPanel);
                        if (threads == 1 && (long)m * n * k < 20_000_000)
                            TestUtil.Close(Naive(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1.5f, c0, n), perPanel, 1e-5, 1e-5 * Math.Sqrt(k), $"{path} {ta}{tb} {m}x{n}x{k}");
                    }
    }

    [Theory]
    [MemberData(nameof(PathCases))]
    public void BatchedMatchesPerItem(GemmPath path)
    {
        // Small items (one thread each) and one large item on 2 threads (split inside the GEMM),
        // in every layout.
        foreach (var (batch, m, n, k) in new[] { (5, 17, 23, 11), (3, 37, 45, 70), (1, 150, 130, 120) })
            foreach (var ta in new[] { Transpose.No, Transpose.Yes })
                foreach (var tb in new[] { Transpose.No, Transpose.Yes })
                {
                    int lda = ta == Transpose.No ? k : m, ldb = tb == Transpose.No ? n : k;
                    var a = TestUtil.Random(6, batch * m * k);
                    var b = TestUtil.Random(7, batch * n * k);
                    var c = new float[batch * m * n];
                    using var pool = new WorkerPool(2);
                    Gemm.SgemmBatched(path, ta, tb, m, n, k, 0.25f, a, lda, m * k, b, ldb, n * k, 0f, c, n, m * n, batch, pool);
                    for (int i = 0; i < batch; i++)
                    {
                        var want = Naive(ta, tb, m, n, k, 0.25f, a[(i * m * k)..((i + 1) * m * k)], lda, b[(i * n * k)..((i + 1) * n * k)], ldb, 0f, new float[m * n], n);
                        TestUtil.Close(want, c.AsSpan(i * m * n, m * n), 1e-5, 1e-5 * Math.Sqrt(k), $"{path} {ta}{tb} batch item {i} of {batch}");
                    }
                }
    }

    [Fact]
    public void RejectsShortOperandsAndBadLeadingDimensions()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.No, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("A is stored as 4×4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.No, 4, 4, 4, 1f, new float[16], 3, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("Leading dimension of A is 3", ex.Message);
    }
}
