// A test LoRA (Hu et al. 2021): y = base(x) + x·Aᵀ·Bᵀ with A (r, in), B (out, r), written with
// naive double loops, wrapping whatever projection the model would have used. With B = 0 the
// model's outputs must be those of the base; its gradients dA, dB are what a real adapter trains.
using Loom.Models.Projections;

namespace Loom.Models.Tests.Projections;

internal sealed class LoraLikeProjection : IProjection
{
    private readonly IProjection _base;
    public readonly int Rank;
    public readonly float[] A, B, DA, DB;

    public LoraLikeProjection(IProjection baseProjection, int rank, int seed)
    {
        _base = baseProjection;
        Rank = rank;
        int n = Spec.InFeatures, m = Spec.OutFeatures;
        var rng = new Random(seed);
        A = Enumerable.Range(0, rank * n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        B = new float[m * rank];
        DA = new float[rank * n];
        DB = new float[m * rank];
    }

    public ProjectionSpec Spec => _base.Spec;

    // u = x·Aᵀ (rows, r)
    private double[] Down(ReadOnlySpan<float> x, int rows)
    {
        int n = Spec.InFeatures;
        var u = new double[rows * Rank];
        for (int i = 0; i < rows; i++)
            for (int r = 0; r < Rank; r++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += (double)x[i * n + k] * A[r * n + k];
                u[i * Rank + r] = s;
            }
        return u;
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false)
    {
        _base.Forward(x, y, rows, accumulate);
        int m = Spec.OutFeatures;
        var u = Down(x, rows);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int r = 0; r < Rank; r++) s += u[i * Rank + r] * B[j * Rank + r];
                y[i * m + j] += (float)s;
            }
    }

    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false)
    {
        _base.Backward(dy, x, dx, rows, accumulateInput);
        int n = Spec.InFeatures, m = Spec.OutFeatures;
        var u = Down(x, rows);
        var du = new double[rows * Rank];
        for (int i = 0; i < rows; i++)
            for (int r = 0; r < Rank; r++)
            {
                double s = 0;
                for (int j = 0; j < m; j++)
                {
                    DB[j * Rank + r] += (float)(dy[i * m + j] * u[i * Rank + r]);
                    s += dy[i * m + j] * B[j * Rank + r];
                }
                du[i * Rank + r] = s;
            }
        for (int r = 0; r < Rank; r++)
            for (int k = 0; k < n; k++)
            {
                double s = 0;
                for (int i = 0; i < rows; i++) s += du[i * Rank + r] * x[i * n + k];
                DA[r * n + k] += (float)s;
            }
        if (dx.IsEmpty) return;
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < n; k++)
            {
                double s = 0;
                for (int r = 0; r < Rank; r++) s += du[i * Rank + r] * A[r * n + k];
                dx[i * n + k] += (float)s;
            }
    }

    public void Dispose() => _base.Dispose();
}
