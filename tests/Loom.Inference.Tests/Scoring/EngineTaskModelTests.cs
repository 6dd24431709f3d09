// The harness through the engine against the PyTorch reference of
// Fixtures/harness/make_harness_fixture.py: per-choice log-likelihoods (float64 forward of the same
// weights), is_greedy, and lm-eval's acc / acc_norm (which disagree on 7 of the 8 documents, so a
// normalisation by tokens or bytes-with-delimiter instead of characters would show).
using System.Text.Json.Nodes;
using Loom.Evaluation.Harness;
using Loom.Inference.Engine;
using Loom.Inference.Scoring;
using Xunit;

namespace Loom.Inference.Tests.Scoring;

public sealed class EngineTaskModelTests
{
    private static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "harness");
    private static JsonObject Expected => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json")))!;

    private static InferenceEngine Engine(int tokensPerBatch, out EngineTaskModel model)
    {
        var engine = InferenceEngine.Load(Path.Combine(Dir, "model"), new InferenceEngineOptions { KvCacheMegabytes = 4 });
        model = new EngineTaskModel(engine, "fixture") { TokensPerBatch = tokensPerBatch };
        return engine;
    }

    [Theory]
    [InlineData(1)]      // one sequence per forward
    [InlineData(2048)]   // all choices of a chunk padded into shared forwards
    public async Task MultipleChoiceMatchesPyTorchAndLmEvalDefinitions(int tokensPerBatch)
    {
        using var engine = Engine(tokensPerBatch, out var model);
        var task = TaskLoader.Load(Path.Combine(Dir, "task.yaml"));
        var result = await TaskRunner.RunAsync(task, model, new HarnessOptions { BootstrapResamples = 50 });
        var expected = (JsonArray)Expected["multiple_choice"]!;
        Assert.Equal(expected.Count, result.Samples.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i]!;
            var s = result.Samples[i];
            var lls = (JsonArray)e["lls"]!;
            for (int c = 0; c < lls.Count; c++)
            {
                Assert.Equal(lls[c]!.GetValue<double>(), s["loglikelihoods"]![c]!.GetValue<double>(), 3e-3);
                Assert.Equal(e["is_greedy"]![c]!.GetValue<bool>(), s["is_greedy"]![c]!.GetValue<bool>());
            }
            Assert.Equal(e["pred"]!.GetValue<int>(), s["pred"]!.GetValue<int>());
            Assert.Equal(e["pred_norm"]!.GetValue<int>(), s["pred_norm"]!.GetValue<int>());
        }
        Assert.Equal(Expected["acc"]!.GetValue<double>(), result.Metrics["acc"].Value, 12);
        Assert.Equal(Expected["acc_norm"]!.GetValue<double>(), result.Metrics["acc_norm"].Value, 12);
    }

    [Fact]
    public async Task TargetLogLikelihoodMatchesPyTorch()
    {
        using var engine = Engine(2048, out var model);
        var task = TaskLoader.Load(Path.Combine(Dir, "task_loglikelihood.yaml"));
        var result = await TaskRunner.RunAsync(task, model, new HarnessOptions { BootstrapResamples = 50 });
        var expected = (JsonArray)Expected["loglikelihood"]!;
        double sum = 0, greedy = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            double ll = expected[i]!["ll"]!.GetValue<double>();
            Assert.Equal(ll, result.Samples[i]["loglikelihood"]!.GetValue<double>(), 3e-3);
            sum += ll;
            greedy += expected[i]!["is_greedy"]!.GetValue<bool>() ? 1 : 0;
        }
        Assert.Equal(sum / expected.Count, result.Metrics["loglikelihood"].Value, 3e-3);
        Assert.Equal(Math.Exp(-sum / expected.Count), result.Metrics["perplexity"].Value, 1e-2 * Math.Exp(-sum / expected.Count));
        Assert.Equal(greedy / expected.Count, result.Metrics["acc"].Value, 12);
    }

    [Fact]
    public void EncodePairMovesTrailingWhitespaceToTheContinuation()
    {
        using var engine = Engine(2048, out var model);
        // Byte-level tokenizer with no merges: ids are the UTF-8 bytes; the fixture's config has no BOS rule.
        var (ctx, cont) = model.Encode(new LogLikelihoodRequest("Colour? ", " green"));
        Assert.Equal("Colour?"u8.ToArray().Select(b => (int)b), ctx);
        Assert.Equal("  green"u8.ToArray().Select(b => (int)b), cont);
        var (empty, _) = model.Encode(new LogLikelihoodRequest("", "x"));
        Assert.Equal([256], empty);   // lm-eval's prefix token: end-of-text when the model adds no BOS
    }
}
