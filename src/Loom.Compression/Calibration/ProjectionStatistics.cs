// What calibration collects for one projection from the inputs X (tokens × in) it sees:
//  - Σₜ X[t, j]² per input column j (Wanda's ‖X_j‖₂², Sun et al. 2023 §3);
//  - Σₜ xₜxₜᵀ, the (in × in) Gram matrix; SparseGPT's Hessian is 2XXᵀ (Frantar & Alistarh 2023, §3.1),
//    and a positive factor changes nothing there (dampening is relative to its mean diagonal).
// The Gram matrix is accumulated by the f32 GEMM (as the reference accumulates H in f32) and read in double.
using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Compression.Calibration;

/// <summary>Input statistics of one projection over the calibration tokens.</summary>
public sealed class ProjectionStatistics
{
    private readonly double[] _squaredNorms;
    private readonly float[]? _gram;

    /// <summary>Statistics for a projection of <paramref name="inFeatures"/> inputs; the Gram matrix only when <paramref name="gram"/>.</summary>
    public ProjectionStatistics(int inFeatures, bool gram)
    {
        InFeatures = inFeatures;
        _squaredNorms = new double[inFeatures];
        _gram = gram ? new float[(long)inFeatures * inFeatures] : null;
    }

    /// <summary>Input width.</summary>
    public int InFeatures { get; }

    /// <summary>Tokens (rows of X) seen.</summary>
    public long Tokens { get; private set; }

    /// <summary>Σₜ X[t, j]² per input column.</summary>
    public ReadOnlySpan<double> SquaredNorms => _squaredNorms;

    /// <summary>True when the Gram matrix is collected.</summary>
    public bool HasGram => _gram is not null;

    /// <summary>Adds rows of x (rows × in).</summary>
    public void Add(ReadOnlySpan<float> x, int rows, WorkerPool? pool = null)
    {
        int n = InFeatures;
        for (int t = 0; t < rows; t++)
        {
            var row = x.Slice(t * n, n);
            for (int j = 0; j < n; j++) _squaredNorms[j] += (double)row[j] * row[j];
        }
        // G += Xᵀ·X
        if (_gram is not null) Gemm.Sgemm(Transpose.Yes, Transpose.No, n, n, rows, 1f, x, n, x, n, 1f, _gram, n, pool);
        Tokens += rows;
    }

    /// <summary>SparseGPT's Hessian 2XXᵀ/tokens (in × in), in double.</summary>
    public double[] Hessian()
    {
        if (_gram is null) throw new InvalidOperationException("This projection's calibration did not collect XXᵀ (only SparseGPT needs it).");
        double scale = Tokens > 0 ? 2.0 / Tokens : 0;
        var h = new double[_gram.Length];
        for (int i = 0; i < h.Length; i++) h[i] = _gram[i] * scale;
        return h;
    }
}
