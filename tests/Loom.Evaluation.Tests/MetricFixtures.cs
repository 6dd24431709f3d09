// Loads Fixtures/metric_fixtures.json (written by Fixtures/make_metric_fixtures.py with
// scikit-learn 1.2.1 / scipy 1.10.1) and compares Loom's numbers with sklearn's: floats to 1e-12
// relative (with a 1e-15 floor for expected zeros), NaN equal to NaN, integers exactly.
using System.Text.Json;

namespace Loom.Evaluation.Tests;

internal static class MetricFixtures
{
    public const double RelativeTolerance = 1e-12;

    private static readonly Lazy<JsonDocument> Document = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "metric_fixtures.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    public static JsonElement Case(string section, string name)
    {
        foreach (var c in Root.GetProperty(section).EnumerateArray())
            if (c.GetProperty("name").GetString() == name) return c;
        throw new KeyNotFoundException($"no fixture case '{name}' in section '{section}'");
    }

    public static TheoryData<string> Names(string section)
    {
        var data = new TheoryData<string>();
        foreach (var c in Root.GetProperty(section).EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    public static double Double(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var s => throw new FormatException($"not a number: {s}"),
        }
        : e.GetDouble();

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(Double).ToArray();

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    public static long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

    public static void Near(double expected, double actual, string what)
    {
        if (double.IsNaN(expected))
        {
            Assert.True(double.IsNaN(actual), $"{what}: expected NaN, got {actual:R}");
            return;
        }
        double tolerance = RelativeTolerance * Math.Abs(expected) + 1e-15;
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:R} (sklearn), got {actual:R}");
    }

    public static void Near(JsonElement expected, double actual, string what) => Near(Double(expected), actual, what);

    public static void Near(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values (sklearn), got {actual.Length}");
        for (int i = 0; i < expected.Length; i++) Near(expected[i], actual[i], $"{what}[{i}]");
    }
}
