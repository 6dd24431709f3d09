// Loads the committed fixture files (made by Fixtures/make_drift_fixtures.py with scipy 1.10.1 / numpy 1.24.2).
using System.Text.Json;

namespace Loom.Monitoring.Tests;

internal static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static JsonElement Load(string name) => JsonDocument.Parse(File.ReadAllText(Path(name))).RootElement;

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    public static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    /// <summary>The fixture script's lattice(n, a, m, shift): ((i·a) mod m)/m + shift.</summary>
    public static double[] Lattice(JsonElement recipe)
    {
        var r = recipe.EnumerateArray().ToArray();
        long n = (long)r[0].GetDouble(), a = (long)r[1].GetDouble(), m = (long)r[2].GetDouble();
        double shift = r[3].GetDouble();
        var x = new double[n];
        for (long i = 0; i < n; i++) x[i] = (double)(i * a % m) / m + shift;
        return x;
    }

    public static void Close(double expected, double actual, double rtol, double atol = 0, string what = "")
    {
        double tol = atol + rtol * Math.Abs(expected);
        Assert.True(Math.Abs(expected - actual) <= tol || (double.IsPositiveInfinity(expected) && double.IsPositiveInfinity(actual)),
            $"{what}: expected {expected:R}, got {actual:R} (|diff| {Math.Abs(expected - actual):E3} > {tol:E3})");
    }
}
