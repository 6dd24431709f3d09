// SlidingWindowPerplexity against Hugging Face's documented strided loop run in PyTorch (float64) on
// two tiny models with committed weights (Fixtures/make_perplexity_fixture.py → Fixtures/perplexity/):
// a GPT-2 and a Llama with grouped-query attention, for stride < context, stride = context, stride 1,
// a context shorter than the model's, and a last window shorter than the others. The summed NLL and
// the perplexity must agree to 1e-4 relative; the scored-token and window counts exactly.
using System.Text.Json;
using Loom.Evaluation.Perplexity;
using Loom.Models;

namespace Loom.Evaluation.Tests.Perplexity;

public sealed class SlidingWindowPerplexityTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "perplexity");

    private static readonly Lazy<JsonDocument> Expected = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "expected.json"))));

    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var model in Expected.Value.RootElement.GetProperty("models").EnumerateObject())
            foreach (var c in model.Value.GetProperty("cases").EnumerateArray())
                data.Add(model.Name, c.GetProperty("context").GetInt32(), c.GetProperty("stride").GetInt32());
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsTheHuggingFaceLoopInPyTorch(string family, int context, int stride)
    {
        var m = Expected.Value.RootElement.GetProperty("models").GetProperty(family);
        var ids = m.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var c = m.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("context").GetInt32() == context && e.GetProperty("stride").GetInt32() == stride);
        using var model = CausalLanguageModels.Load(Path.Combine(Root, family), ModelOptions.Inference);
        // Batch sizes 1 and 3: batching windows of one length must not change the result.
        foreach (int batch in new[] { 1, 3 })
        {
            var r = SlidingWindowPerplexity.Evaluate(model, ids, new PerplexityOptions { Context = context, Stride = stride, BatchSize = batch });
            Assert.Equal(c.GetProperty("tokens").GetInt64(), r.Tokens);
            Assert.Equal(c.GetProperty("windows").GetInt32(), r.Windows);
            Relative(c.GetProperty("total_nll").GetDouble(), r.TotalNll, $"{family} total nll, batch {batch}");
            Relative(c.GetProperty("perplexity").GetDouble(), r.Perplexity, $"{family} perplexity, batch {batch}");
        }
    }

    [Fact]
    public void StrideBelowContextScoresEveryTokenButTheFirstOnce()
    {
        foreach (var (n, ctx, stride) in new[] { (45, 16, 5), (100, 10, 3), (17, 16, 1), (16, 16, 7), (2, 16, 4) })
        {
            var windows = SlidingWindowPerplexity.Windows(n, ctx, stride);
            var scored = new int[n];
            foreach (var w in windows)
            {
                Assert.InRange(w.Length, 2, ctx);
                for (int t = w.FirstScored; t < w.Begin + w.Length; t++) scored[t]++;
            }
            Assert.Equal(0, scored[0]);
            Assert.All(scored.Skip(1), s => Assert.Equal(1, s));
        }
    }

    [Fact]
    public void BitsPerByteAndCharacterAreTotalNatsOverLn2PerUnit()
    {
        var r = new PerplexityResult { TotalNll = 100 * Math.Log(2), Tokens = 40, Windows = 1, Context = 8, Stride = 8 };
        Assert.Equal(0.5, r.BitsPerByte(200), 12);
        Assert.Equal(1.0, r.BitsPerCharacter(100), 12);
        Assert.Equal(Math.Exp(100 * Math.Log(2) / 40), r.Perplexity, 12);
    }

    [Fact]
    public void BadSettingsNameTheOptionAndValue()
    {
        using var model = CausalLanguageModels.Load(Path.Combine(Root, "gpt2"), ModelOptions.Inference);
        var e = Assert.Throws<ArgumentException>(() => SlidingWindowPerplexity.Evaluate(model, new int[10], new PerplexityOptions { Context = 32 }));
        Assert.Contains("32", e.Message);
        Assert.Contains("16", e.Message);
        e = Assert.Throws<ArgumentException>(() => SlidingWindowPerplexity.Evaluate(model, new int[10], new PerplexityOptions { Context = 8, Stride = 9 }));
        Assert.Contains("Stride", e.Message);
        e = Assert.Throws<ArgumentException>(() => SlidingWindowPerplexity.Evaluate(model, new[] { 1, 500, 2 }, new PerplexityOptions()));
        Assert.Contains("500", e.Message);
        Assert.Throws<ArgumentException>(() => SlidingWindowPerplexity.Evaluate(model, new[] { 1 }, new PerplexityOptions()));
    }

    private static void Relative(double expected, double actual, string what) =>
        Assert.True(Math.Abs(actual - expected) <= 1e-4 * Math.Abs(expected), $"{what}: expected {expected:R}, got {actual:R} (relative {Math.Abs(actual - expected) / Math.Abs(expected):E2})");
}
