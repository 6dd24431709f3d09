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

    // One request at a time, as EngineTaskModel scored before batching: its own full forward (B = 1,
    // the head on every position) and the log-softmax as a double Math.Exp loop from the row maximum.
    private static async Task<(double Ll, bool Greedy)> OneAtATime(InferenceEngine engine, EngineTaskModel model, LogLikelihoodRequest request)
    {
        var (ctx, cont) = model.Encode(request);
        int[] all = [.. ctx, .. cont];
        if (all.Length > engine.ContextLength + 1) all = all[^(engine.ContextLength + 1)..];
        int[] input = all[..^1];
        return await engine.InvokeAsync(m =>
        {
            int V = m.VocabularySize;
            m.Forward(input, [], 1, input.Length);
            var logits = m.Logits;
            double sum = 0;
            bool greedy = true;
            for (int j = 0; j < cont.Length; j++)
            {
                var row = logits.Slice((input.Length - cont.Length + j) * V, V);
                float max = float.NegativeInfinity;
                int arg = 0;
                for (int v = 0; v < V; v++) if (row[v] > max) { max = row[v]; arg = v; }
                double z = 0;
                for (int v = 0; v < V; v++) z += Math.Exp(row[v] - max);
                sum += row[cont[j]] - max - Math.Log(z);
                greedy &= arg == cont[j];
            }
            return (sum, greedy);
        });
    }

    [Theory]
    [InlineData(1)]      // one host row per forward
    [InlineData(2048)]   // every host row of the call in one padded forward
    public async Task BatchedSharedScoringEqualsOneAtATimeScoring(int tokensPerBatch)
    {
        using var engine = Engine(tokensPerBatch, out var model);
        var text = "The quick brown fox jumps over the lazy dog. " + new string('z', 150);   // the last request is truncated from the left
        LogLikelihoodRequest[] requests =
        [
            new("Is it spam? Answer:", " ham"), new("Is it spam? Answer:", " spam"),   // single-byte-token choices: different inputs here
            new("Colour:", " g"), new("Colour:", " b"),                                 // single-token choices: one shared row
            new("Colour:", " green"), new("Colour: g", "reen"),                          // one input the prefix of the other
            new("", "x"), new("Colour:", " g"), new(text, " end"),
        ];
        var batched = await model.LogLikelihoodAsync(requests);
        Assert.Equal(requests.Length, batched.Count);
        for (int i = 0; i < requests.Length; i++)
        {
            var (ll, greedy) = await OneAtATime(engine, model, requests[i]);
            Assert.True(Math.Abs(ll - batched[i].LogLikelihood) <= 1e-5, $"request {i}: batched {batched[i].LogLikelihood}, one at a time {ll}");
            Assert.Equal(greedy, batched[i].IsGreedy);
        }
    }

    [Fact]
    public void ScoringHostsMapEachInputToTheLongestInputItBegins()
    {
        int[][] inputs = [[1, 2, 3], [1, 2], [1, 2, 3, 4], [1, 3], [1, 2, 3], [2], [1]];
        var host = EngineTaskModel.ScoringHosts(inputs);
        // [1], [1, 2], [1, 2, 3] (twice) begin [1, 2, 3, 4]; [1, 3] and [2] begin nothing longer.
        Assert.Equal([2, 2, 2, 3, 2, 5, 2], host);
    }
}
