// loom-run generate against the reference, `loom generate` on the same model, prompt and seed: equal
// text, greedy and sampled, on the shipped tiny GPT-2 (f32), its `loom quantize` q8_0 and q4_0
// directories and its `loom export gguf` q8_0 file — every path loom-run is built to open.
namespace Loom.Run.Tests;

public class GenerateRunTests
{
    private static readonly Lazy<string> s_models = new(() =>
    {
        string dir = Runners.TempDir();
        foreach (var type in new[] { "q8_0", "q4_0" })
        {
            var q = Runners.Loom("quantize", "--model", Runners.TinyGpt2, "--type", type, "--output", Path.Combine(dir, type));
            Assert.True(q.Code == 0, q.Console);
        }
        var g = Runners.Loom("export", "gguf", "--model", Runners.TinyGpt2, "--type", "q8_0", "--output", Path.Combine(dir, "tiny-q8_0.gguf"));
        Assert.True(g.Code == 0, g.Console);
        return dir;
    });

    public static TheoryData<string> Models => new() { "f32", "q8_0", "q4_0", "tiny-q8_0.gguf" };

    private static string PathOf(string model) => model == "f32" ? Runners.TinyGpt2 : Path.Combine(s_models.Value, model);

    [Theory]
    [MemberData(nameof(Models))]
    public void GreedyAndSampledTextEqualLoomGenerate(string model)
    {
        string path = PathOf(model);
        foreach (var sampling in new[] { new[] { "--temperature", "0" }, ["--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "7"] })
        {
            var reference = Runners.Loom(["generate", "--model", path, "--prompt", "The cat", "--max-new-tokens", "12", .. sampling]);
            Assert.True(reference.Code == 0, reference.Console);
            var run = Runners.LoomRun(["generate", "--model", path, "--prompt", "The cat", "--max-tokens", "12", "--threads", "1", .. sampling]);
            Assert.True(run.Code == 0, run.Error);
            Assert.Equal("", run.Error);
            Assert.Equal(reference.Output, run.Output);
            Assert.NotEqual("", run.Output.Trim('\n'));
        }
    }

    [Fact]
    public void ADifferentSeedGivesADifferentSample()
    {
        // The sampled comparison above would pass vacuously if loom-run ignored --seed while loom did too.
        string[] args = ["generate", "--model", Runners.TinyGpt2, "--prompt", "The cat", "--max-tokens", "24", "--temperature", "1.5"];
        var a = Runners.LoomRun([.. args, "--seed", "1"]);
        var b = Runners.LoomRun([.. args, "--seed", "2"]);
        Assert.Equal(0, a.Code);
        Assert.NotEqual(a.Output, b.Output);
    }
}
