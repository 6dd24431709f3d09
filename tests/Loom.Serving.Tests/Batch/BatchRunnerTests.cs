// Batch jobs: results equal the engine called directly (greedy, so exact), errors become lines with
// the HTTP status and OpenAI's error body, an interrupted job resumed gives every custom_id exactly
// once (also after a torn last line), and a duplicate custom_id is refused naming both lines.
using System.Text.Json.Nodes;
using Loom.Inference.Chat;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Serving.Batch;
using Loom.Serving.Metrics;
using Loom.Serving.Protocol;
using Loom.Tokenizers;

namespace Loom.Serving.Tests.Batch;

public sealed class BatchRunnerTests
{
    private static readonly string Dir = TestServer.MakeModelDir();
    private static readonly string[] Prompts = ["the cat", "the dog sat", "where is", "on the mat", "said the", "the log", "is the cat", "the mat"];

    private static string Input(int count, Func<int, string>? extra = null)
    {
        string path = Path.Combine(Path.GetTempPath(), "loom-batch-" + Guid.NewGuid().ToString("N") + ".jsonl");
        var lines = Enumerable.Range(0, count).Select(i => extra?.Invoke(i) ?? (i % 3 == 2
            ? new JsonObject { ["custom_id"] = $"req-{i}", ["method"] = "POST", ["url"] = "/v1/completions", ["body"] = new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = Prompts[i % Prompts.Length], ["max_tokens"] = 6, ["temperature"] = 0 } }
            : new JsonObject { ["custom_id"] = $"req-{i}", ["method"] = "POST", ["url"] = "/v1/chat/completions", ["body"] = new JsonObject { ["model"] = "tiny-gpt2", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = Prompts[i % Prompts.Length] }), ["max_tokens"] = 6, ["temperature"] = 0 } }
            ).ToJsonString());
        File.WriteAllLines(path, lines);
        return path;
    }

    private static Dictionary<string, JsonNode> Results(string path) =>
        File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!).ToDictionary(n => (string)n["custom_id"]!, n => n);

    [Fact]
    public async Task ResultsEqualTheEngineAndAnInterruptedJobResumesWithEveryIdOnce()
    {
        using var engine = InferenceEngine.Load(Dir, new InferenceEngineOptions { KvCacheMegabytes = 4 });
        var service = new OpenAIService(engine, "tiny-gpt2", ChatMLFormatter.Instance, new ServerMetrics());
        const int Count = 40;
        string input = Input(Count);
        string output = input + ".out";

        // Interrupt after a few results, twice, then tear the last line as a crash mid-write would.
        for (int round = 0; round < 2; round++)
        {
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress(p => { if (p.Done >= 5) cts.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => BatchRunner.RunAsync(service, new BatchOptions { InputPath = input, OutputPath = output, MaxConcurrent = 8 }, progress, cts.Token));
        }
        int before = File.ReadAllLines(output).Length;
        Assert.InRange(before, 10, Count - 1);
        File.AppendAllText(output, "{\"id\":\"batch_req_x\",\"custom_id\":\"req-39\",\"resp");
        var final = await BatchRunner.RunAsync(service, new BatchOptions { InputPath = input, OutputPath = output, MaxConcurrent = 8 });
        Assert.True(final.Complete);
        Assert.Equal(before, final.Skipped);

        var lines = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(Count, lines.Count);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"req-{i}").Order(), lines.Select(l => (string)l["custom_id"]!).Order());

        // Each answer is the engine's greedy output for the same prompt tokens.
        foreach (var line in lines)
        {
            int i = int.Parse(((string)line["custom_id"]!)[4..]);
            Assert.Equal(200, (int)line["response"]!["status_code"]!);
            var body = line["response"]!["body"]!;
            bool chat = i % 3 != 2;
            string prompt = chat ? TestServer.ChatML(("user", Prompts[i % Prompts.Length])) : Prompts[i % Prompts.Length];
            var expected = await engine.GenerateAsync(new GenerationRequest
            {
                PromptTokens = TestServer.Tokenizer.Encode(prompt, SpecialTokenPolicy.All),
                Sampling = new SamplingOptions { MaxNewTokens = 6, StopSequences = chat ? ["<|im_end|>"] : [] },
            });
            Assert.Equal(expected.Text, chat ? (string?)body["choices"]![0]!["message"]!["content"] : (string?)body["choices"]![0]!["text"]);
            Assert.Equal(expected.Usage.CompletionTokens, (int)body["usage"]!["completion_tokens"]!);
        }
        Assert.Equal(0, engine.Statistics.UsedBlocks);
    }

    [Fact]
    public async Task BadRequestsBecomeErrorLinesAndDuplicatesNameBothLines()
    {
        using var engine = InferenceEngine.Load(Dir, new InferenceEngineOptions { KvCacheMegabytes = 4 });
        var service = new OpenAIService(engine, "tiny-gpt2", ChatMLFormatter.Instance, new ServerMetrics());
        string input = Input(3, i => i switch
        {
            0 => "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"model\":\"tiny-gpt2\",\"prompt\":\"the\",\"max_tokens\":0}}",
            1 => "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"other\",\"input\":\"the\"}}",
            _ => "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"tiny-gpt2\",\"input\":\"the cat\"}}",
        });
        var result = await BatchRunner.RunAsync(service, new BatchOptions { InputPath = input, OutputPath = input + ".out" });
        Assert.Equal(2, result.Failed);
        var lines = Results(input + ".out");
        Assert.Equal(400, (int)lines["a"]["response"]!["status_code"]!);
        Assert.Equal("max_tokens", (string?)lines["a"]["response"]!["body"]!["error"]!["param"]);
        Assert.Equal(404, (int)lines["b"]["response"]!["status_code"]!);
        Assert.Equal(200, (int)lines["c"]["response"]!["status_code"]!);
        Assert.Equal(32, lines["c"]["response"]!["body"]!["data"]![0]!["embedding"]!.AsArray().Count);

        File.WriteAllLines(input, [
            "{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{}}",
            "{\"custom_id\":\"y\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{}}",
            "",
            "{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{}}"]);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => BatchRunner.RunAsync(service, new BatchOptions { InputPath = input, OutputPath = input + ".out2" }));
        Assert.Contains(":4", e.Message);
        Assert.Contains("line 1", e.Message);
        Assert.Contains("\"x\"", e.Message);
        File.WriteAllText(input, "{\"custom_id\":\"x\",\"method\":\"GET\",\"url\":\"/v1/completions\",\"body\":{}}\n");
        Assert.Contains(":1", (await Assert.ThrowsAsync<InvalidDataException>(() => BatchRunner.RunAsync(service, new BatchOptions { InputPath = input, OutputPath = input + ".out2" }))).Message);
    }

    // Progress<T> posts asynchronously; the test needs the callback at once.
    private sealed class SyncProgress(Action<BatchProgress> report) : IProgress<BatchProgress>
    {
        public void Report(BatchProgress value) => report(value);
    }
}
