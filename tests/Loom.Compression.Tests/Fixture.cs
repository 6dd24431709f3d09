// The committed PyTorch/NumPy reference (Fixtures/make_compression_fixture.py → compression_fixture.json).
using System.Text.Json;

namespace Loom.Compression.Tests;

internal static class Fixture
{
    private static readonly Lazy<JsonElement> s_root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "compression_fixture.json"))).RootElement);

    public static int Int(string name) => s_root.Value.GetProperty(name).GetInt32();

    public static double[] Doubles(string name) => s_root.Value.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static bool[] Mask(string name) => s_root.Value.GetProperty(name).EnumerateArray().Select(e => e.GetInt32() != 0).ToArray();

    public static int Rows => Int("rows");
    public static int Cols => Int("cols");
    public static int Tokens => Int("tokens");

    /// <summary>W (rows × cols) as float32 values in double.</summary>
    public static double[] W => Doubles("W");

    /// <summary>X (tokens × cols).</summary>
    public static double[] X => Doubles("X");

    /// <summary>Σₜ X[t, j]².</summary>
    public static double[] SquaredNorms()
    {
        var x = X;
        var n = new double[Cols];
        for (int t = 0; t < Tokens; t++)
            for (int j = 0; j < Cols; j++) n[j] += x[t * Cols + j] * x[t * Cols + j];
        return n;
    }

    /// <summary>2XᵀX/tokens in double, as the reference builds SparseGPT's H.</summary>
    public static double[] Hessian() => Hessian(X, Tokens, Cols);

    public static double[] Hessian(double[] x, int tokens, int cols)
    {
        var h = new double[cols * cols];
        for (int t = 0; t < tokens; t++)
            for (int a = 0; a < cols; a++)
            {
                double xa = x[t * cols + a];
                for (int b = 0; b < cols; b++) h[a * cols + b] += xa * x[t * cols + b];
            }
        for (int i = 0; i < h.Length; i++) h[i] *= 2.0 / tokens;
        return h;
    }

    /// <summary>‖W·Xᵀ − Ŵ·Xᵀ‖_F, the layer-output reconstruction error.</summary>
    public static double OutputError(double[] w, double[] pruned, double[] x, int rows, int cols, int tokens)
    {
        double sum = 0;
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < tokens; t++)
            {
                double d = 0;
                for (int j = 0; j < cols; j++) d += (w[r * cols + j] - pruned[r * cols + j]) * x[t * cols + j];
                sum += d * d;
            }
        return Math.Sqrt(sum);
    }
}
