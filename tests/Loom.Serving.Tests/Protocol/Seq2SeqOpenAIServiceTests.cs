// `loom serve` on a T5 directory (Fixtures/t5_tiny, linked from Loom.Cli.Tests): a completion through
// the official OpenAI .NET SDK must be PyTorch's greedy generate text for the same prompt
// (expected.json, made by tests/Loom.Models.Tests/Fixtures/make_t5_fixture.py with transformers'
// T5ForConditionalGeneration.generate), usage the T5Tokenizer ids PyTorch encoded and the ids it
// generated; the stream must concatenate to the same text; chat answers 400.
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loom.Inference.Seq2Seq;
using Loom.Serving.Hosting;
using OpenAI;

namespace Loom.Serving.Tests.Protocol;

public sealed class Seq2SeqOpenAIServiceTests : IAsyncLifetime
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "t5_tiny");
    private const string Model = "t5_tiny";
    private LoomServer _server = null!;

    private static JsonArray Expected => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json")))!.AsArray();

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Dir);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SdkCompletionIsPyTorchsGreedyGeneration()
    {
        // SDK 2.15.0 keeps its LegacyCompletionClient internal; the request goes through the public
        // client's own pipeline (its key policy, retries, error handling) to POST /v1/completions.
        var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress!, "/v1") });
        foreach (var e in Expected)
        {
            var body = new JsonObject { ["model"] = Model, ["prompt"] = (string)e!["prompt"]!, ["max_tokens"] = 32, ["temperature"] = 0 };
            using var message = client.Pipeline.CreateMessage();
            message.Request.Method = "POST";
            message.Request.Uri = new Uri(_server.BaseAddress!, "/v1/completions");
            message.Request.Headers.Set("Content-Type", "application/json");
            message.Request.Content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
            message.Apply(new RequestOptions());
            await client.Pipeline.SendAsync(message);
            Assert.Equal(200, message.Response!.Status);
            var json = JsonNode.Parse(message.Response.Content.ToString())!;
            Assert.Equal("text_completion", (string)json["object"]!);
            Assert.Equal((string)e["greedy_text"]!, (string)json["choices"]![0]!["text"]!);
            Assert.Equal("stop", (string)json["choices"]![0]!["finish_reason"]!);
            Assert.Equal(e["input_ids"]!.AsArray().Count, (int)json["usage"]!["prompt_tokens"]!);
            Assert.Equal(e["greedy_ids"]!.AsArray().Count, (int)json["usage"]!["completion_tokens"]!);
        }
    }

    [Fact]
    public async Task StreamConcatenatesToTheSameTextAndStopsCut()
    {
        using var http = TestServer.Http(_server);
        var e = Expected[1]!;
        string expected = (string)e["greedy_text"]!;
        var body = new JsonObject
        {
            ["model"] = Model, ["prompt"] = (string)e["prompt"]!, ["max_tokens"] = 32, ["temperature"] = 0, ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        string sse = await (await http.PostAsJsonAsync("/v1/completions", body)).Content.ReadAsStringAsync();
        var events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(x => x["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(x => JsonNode.Parse(x)!).ToList();
        Assert.True(chunks.Count(c => ((string?)c["choices"]!.AsArray().FirstOrDefault()?["text"])?.Length > 0) > 1, "the text came in more than one chunk");
        Assert.Equal(expected, string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => (string)c!["text"]!)));
        Assert.Equal(e["greedy_ids"]!.AsArray().Count, (int)chunks[^1]["usage"]!["completion_tokens"]!);

        // A stop string ends the text before it, as OpenAI's stop (the reference text cut at its first " be").
        body["stream"] = false;
        body.Remove("stream_options");
        body["stop"] = new JsonArray(" be");
        var json = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/completions", body)).Content.ReadAsStringAsync())!;
        Assert.Equal(expected[..expected.IndexOf(" be", StringComparison.Ordinal)], (string)json["choices"]![0]!["text"]!);
        Assert.Equal("stop", (string)json["choices"]![0]!["finish_reason"]!);
    }

    [Fact]
    public async Task SampledChoicesAreTheGeneratorsWithSeedPlusIndex()
    {
        using var http = TestServer.Http(_server);
        var body = new JsonObject { ["model"] = Model, ["prompt"] = "First Citizen: speak.", ["max_tokens"] = 12, ["temperature"] = 0.9, ["top_k"] = 20, ["seed"] = 5, ["n"] = 2 };
        var json = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/completions", body)).Content.ReadAsStringAsync())!;
        using var reference = Seq2SeqTextModel.Load(Dir);
        for (int c = 0; c < 2; c++)
        {
            var options = new Seq2SeqGenerationOptions { MaxNewTokens = 12, Sampling = new() { Temperature = 0.9f, TopK = 20, Seed = 5 + c } };
            Assert.Equal(reference.Generate("First Citizen: speak.", options).Text, (string)json["choices"]![c]!["text"]!);
        }
    }

    [Fact]
    public async Task ChatIsRefusedAndModelsListsTheModel()
    {
        using var http = TestServer.Http(_server);
        var chat = await http.PostAsJsonAsync("/v1/chat/completions", new JsonObject
        {
            ["model"] = Model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        });
        Assert.Equal(HttpStatusCode.BadRequest, chat.StatusCode);
        var error = JsonNode.Parse(await chat.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("chat_not_supported", (string)error["code"]!);
        Assert.Contains("no chat template", (string)error["message"]!);
        var models = JsonNode.Parse(await http.GetStringAsync("/v1/models"))!;
        Assert.Equal(Model, (string)models["data"]![0]!["id"]!);
        Assert.Contains("loom_requests_total", await http.GetStringAsync("/metrics"));
    }
}
