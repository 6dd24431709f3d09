// The server against the official OpenAI .NET SDK and Microsoft.Extensions.AI.OpenAI's IChatClient:
// each answer must equal the engine called directly on the same prompt tokens with the same seed
// (the reference), and usage must equal the tokenizer's count of the ChatML prompt.
using System.ClientModel;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loom.Inference.Chat;
using Loom.Inference.Engine;
using Loom.Inference.Generation;
using Loom.Tokenizers;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace Loom.Serving.Tests.Http;

public sealed class OpenAIClientTests : IAsyncLifetime
{
    private readonly string _dir = TestServer.MakeModelDir();
    private Loom.Serving.Hosting.LoomServer _server = null!;
    private InferenceEngine _reference = null!;
    private const string Model = "tiny-gpt2";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(_dir);
        _reference = InferenceEngine.Load(_dir);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _reference.Dispose();
    }

    private OpenAIClient Client() => new(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress!, "/v1") });

    private async Task<(GenerationResult Result, int PromptTokens)> Reference(string prompt, SamplingOptions sampling)
    {
        int[] ids = TestServer.Tokenizer.Encode(prompt, SpecialTokenPolicy.All);   // no BOS: tokenizer_config.json does not ask for one
        var result = await _reference.GenerateAsync(new GenerationRequest { PromptTokens = ids, Sampling = sampling });
        Assert.Equal(ids.Length, result.Usage.PromptTokens);
        return (result, ids.Length);
    }

    [Fact]
    public async Task ChatWithTheSdkEqualsTheEngineStreamedOrNot()
    {
        var chat = Client().GetChatClient(Model);
        OpenAI.Chat.ChatMessage[] messages = [new SystemChatMessage("the cat"), new UserChatMessage("where is the dog?")];
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0.8f, Seed = 42, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        var (expected, promptTokens) = await Reference(TestServer.ChatML(("system", "the cat"), ("user", "where is the dog?")),
            new SamplingOptions { MaxNewTokens = 12, Temperature = 0.8f, Seed = 42, StopSequences = ["<|im_end|>"], Logprobs = true, TopLogprobs = 2 });

        ChatCompletion answer = (await chat.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(expected.Text, string.Concat(answer.Content.Select(c => c.Text)));
        Assert.Equal(promptTokens, answer.Usage.InputTokenCount);
        Assert.Equal(expected.Usage.CompletionTokens, answer.Usage.OutputTokenCount);
        Assert.Equal(expected.Choices[0].FinishReason == FinishReason.Stop ? ChatFinishReason.Stop : ChatFinishReason.Length, answer.FinishReason);
        Assert.Equal(expected.Choices[0].Logprobs!, answer.ContentTokenLogProbabilities.Select(l => l.LogProbability).ToArray());
        Assert.All(answer.ContentTokenLogProbabilities, l => Assert.Equal(2, l.TopLogProbabilities.Count));
        Assert.Equal(Model, answer.Model);

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal(expected.Text, text.ToString());
        Assert.Equal(answer.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(promptTokens, usage!.InputTokenCount);
        Assert.Equal(expected.Usage.CompletionTokens, usage.OutputTokenCount);
    }

    [Fact]
    public async Task MicrosoftExtensionsAIChatClientGetsTheGreedyReply()
    {
        IChatClient client = Client().GetChatClient(Model).AsIChatClient();
        var (expected, promptTokens) = await Reference(TestServer.ChatML(("user", "the dog")),
            new SamplingOptions { MaxNewTokens = 10, StopSequences = ["<|im_end|>"] });
        var response = await client.GetResponseAsync("the dog", new ChatOptions { MaxOutputTokens = 10, Temperature = 0 });
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(promptTokens, response.Usage!.InputTokenCount);
        var streamed = new System.Text.StringBuilder();
        await foreach (var u in client.GetStreamingResponseAsync("the dog", new ChatOptions { MaxOutputTokens = 10, Temperature = 0 })) streamed.Append(u.Text);
        Assert.Equal(expected.Text, streamed.ToString());
    }

    [Fact]
    public async Task CompletionsWithNStopsAndLogprobsEqualTheEngine()
    {
        using var http = TestServer.Http(_server);
        var body = new JsonObject
        {
            ["model"] = Model, ["prompt"] = "the cat sat", ["max_tokens"] = 15, ["n"] = 3, ["temperature"] = 1.0, ["seed"] = 5,
            ["stop"] = new JsonArray("mat"), ["logprobs"] = 2,
        };
        var response = await http.PostAsJsonAsync("/v1/completions", body);
        Assert.Equal(200, (int)response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var (expected, promptTokens) = await Reference("the cat sat",
            new SamplingOptions { MaxNewTokens = 15, N = 3, Temperature = 1f, Seed = 5, StopSequences = ["mat"], Logprobs = true, TopLogprobs = 2 });
        Assert.Equal("text_completion", (string?)json["object"]);
        var choices = json["choices"]!.AsArray();
        Assert.Equal(3, choices.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, (int)choices[i]!["index"]!);
            Assert.Equal(expected.Choices[i].Text, (string?)choices[i]!["text"]);
            Assert.Equal(expected.Choices[i].FinishReason.ToWireName(), (string?)choices[i]!["finish_reason"]);
            var lps = choices[i]!["logprobs"]!["token_logprobs"]!.AsArray().Select(x => (float)x!).ToArray();
            Assert.Equal(expected.Choices[i].Logprobs!, lps);
        }
        // The three samples differ (seed + index), so n really gave three completions.
        Assert.True(expected.Choices.Select(c => c.Text).Distinct().Count() > 1);
        Assert.Equal(promptTokens, (int)json["usage"]!["prompt_tokens"]!);
        Assert.Equal(expected.Usage.CompletionTokens, (int)json["usage"]!["completion_tokens"]!);
        Assert.Equal(promptTokens + expected.Usage.CompletionTokens, (int)json["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task StreamedChatIsSseChunksEndingWithUsageAndDone()
    {
        using var http = TestServer.Http(_server);
        var body = new JsonObject
        {
            ["model"] = Model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "the cat" }),
            ["max_tokens"] = 8, ["temperature"] = 0, ["stream"] = true, ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        var response = await http.PostAsJsonAsync("/v1/chat/completions", body);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString());
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        var (expected, promptTokens) = await Reference(TestServer.ChatML(("user", "the cat")), new SamplingOptions { MaxNewTokens = 8, StopSequences = ["<|im_end|>"] });
        string text = string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => (string?)c!["delta"]?["content"]));
        Assert.Equal(expected.Text, text);
        // The last chunk holds no choices and the usage; every earlier one has "usage": null.
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(promptTokens, (int)chunks[^1]["usage"]!["prompt_tokens"]!);
        Assert.Equal(expected.Usage.CompletionTokens, (int)chunks[^1]["usage"]!["completion_tokens"]!);
        Assert.All(chunks[..^1], c => Assert.True(c.AsObject().ContainsKey("usage") && c["usage"] == null));
        Assert.Equal(expected.Choices[0].FinishReason.ToWireName(), (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task StreamedChatWithNTwoAndLogprobsGivesEachChoiceItsOwnStream()
    {
        using var http = TestServer.Http(_server);
        var body = new JsonObject
        {
            ["model"] = Model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "the dog" }),
            ["max_tokens"] = 10, ["temperature"] = 1.2, ["seed"] = 9, ["n"] = 2, ["logprobs"] = true, ["stream"] = true,
        };
        string sse = await (await http.PostAsJsonAsync("/v1/chat/completions", body)).Content.ReadAsStringAsync();
        var chunks = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => e != "data: [DONE]").Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        var (expected, _) = await Reference(TestServer.ChatML(("user", "the dog")),
            new SamplingOptions { MaxNewTokens = 10, Temperature = 1.2f, Seed = 9, N = 2, StopSequences = ["<|im_end|>"], Logprobs = true });
        var choices = chunks.SelectMany(c => c["choices"]!.AsArray()).ToList();
        for (int i = 0; i < 2; i++)
        {
            var mine = choices.Where(c => (int)c!["index"]! == i).ToList();
            Assert.Equal(expected.Choices[i].Text, string.Concat(mine.Select(c => (string?)c!["delta"]?["content"])));
            Assert.Equal(expected.Choices[i].Logprobs!, mine.Where(c => c!["logprobs"] != null).SelectMany(c => c!["logprobs"]!["content"]!.AsArray()).Select(t => (float)t!["logprob"]!).ToArray());
            Assert.Equal(expected.Choices[i].FinishReason.ToWireName(), (string?)mine[^1]!["finish_reason"]);
        }
        Assert.NotEqual(expected.Choices[0].Text, expected.Choices[1].Text);
    }

    [Fact]
    public async Task EmbeddingsAreTheMeanPooledHiddenStates()
    {
        var client = Client().GetEmbeddingClient(Model);
        var embedding = (await client.GenerateEmbeddingAsync("the cat sat on the mat")).Value.ToFloats().ToArray();
        var expected = await new LoomEmbeddingGenerator(_reference, Model).EmbedAsync("the cat sat on the mat");
        Assert.Equal(expected.Length, embedding.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], embedding[i], 5);

        using var http = TestServer.Http(_server);
        var json = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/embeddings", new JsonObject { ["model"] = Model, ["input"] = new JsonArray("the cat", "the dog sat"), ["encoding_format"] = "float" })).Content.ReadAsStringAsync())!;
        Assert.Equal(2, json["data"]!.AsArray().Count);
        int tokens = TestServer.Tokenizer.Encode("the cat", SpecialTokenPolicy.PlainText).Length + TestServer.Tokenizer.Encode("the dog sat", SpecialTokenPolicy.PlainText).Length;
        Assert.Equal(tokens, (int)json["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task ModelsListsTheDirectoryNameAndHealthAnswers()
    {
        using var http = TestServer.Http(_server);
        var models = JsonNode.Parse(await http.GetStringAsync("/v1/models"))!;
        Assert.Equal(Model, (string?)Assert.Single(models["data"]!.AsArray())!["id"]);
        Assert.Equal("ok", (string?)JsonNode.Parse(await http.GetStringAsync("/health"))!["status"]);
        string metrics = await http.GetStringAsync("/metrics");
        foreach (var name in new[] { "loom_requests_total", "loom_queue_length", "loom_batch_size", "loom_kv_blocks_used", "loom_time_to_first_token_seconds_bucket", "loom_inter_token_latency_seconds_count" })
            Assert.Contains(name, metrics);
    }
}
