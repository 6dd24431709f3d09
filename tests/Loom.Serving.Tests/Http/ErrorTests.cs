// Every error status the server promises, in OpenAI's shape (all four keys of "error" present), with
// the field named where one is at fault, and Retry-After on 429 and 503.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Loom.Serving.Hosting;

namespace Loom.Serving.Tests.Http;

public sealed class ErrorTests
{
    private static readonly string Dir = TestServer.MakeModelDir(context: 64);

    internal static async Task<(int Status, JsonObject Error, HttpResponseMessage Response)> Post(HttpClient http, string path, string body)
    {
        var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        var error = json["error"]!.AsObject();
        foreach (var key in new[] { "message", "type", "param", "code" }) Assert.True(error.ContainsKey(key), $"error lacks \"{key}\": {json}");
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        return ((int)response.StatusCode, error, response);
    }

    private static string Chat(string extra = "", string messages = "[{\"role\":\"user\",\"content\":\"the cat\"}]", string model = "tiny-gpt2") =>
        $"{{\"model\":\"{model}\",\"messages\":{messages}{extra}}}";

    [Theory]
    [InlineData("{\"model\": \"tiny-gpt2\", \"messages\": [", null, "invalid_json")]
    [InlineData("[1, 2]", null, null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":\"ten\"}", "max_tokens", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":true}", "temperature", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":\"hello\"}", "messages", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"frobnicate\":1}", "frobnicate", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", "max_tokens", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":-3}", "max_tokens", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":0}", "n", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[]}", "messages", "empty_array")]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "messages[0].role", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}", "temperature", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":0}", "top_p", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"\"]}", "stop", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logit_bias\":{\"abc\":1}}", "logit_bias", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":{\"include_usage\":true}}", "stream_options", null)]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model", null)]
    [InlineData("{\"model\":\"tiny-gpt2\",\"prompt\":7}", "prompt", null)]
    public async Task BadRequestsAre400NamingTheField(string body, string? param, string? code)
    {
        await using var server = await TestServer.StartAsync(Dir);
        using var http = TestServer.Http(server);
        string path = body.Contains("\"prompt\"") ? "/v1/completions" : "/v1/chat/completions";
        var (status, error, _) = await Post(http, path, body);
        Assert.Equal(400, status);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        if (code != null) Assert.Equal(code, (string?)error["code"]);
        if (param != null) Assert.Contains(param.Split('[')[0], (string?)error["message"]);
        Assert.Equal(0, await TestServer.BlocksInUseAfterSettling(server.Engine));
    }

    [Fact]
    public async Task APromptOverTheContextIsContextLengthExceeded()
    {
        await using var server = await TestServer.StartAsync(Dir);
        using var http = TestServer.Http(server);
        string longText = string.Concat(Enumerable.Repeat("where is the cat? ", 40));
        var (status, error, _) = await Post(http, "/v1/chat/completions", Chat(messages: $"[{{\"role\":\"user\",\"content\":\"{longText}\"}}]"));
        Assert.Equal(400, status);
        Assert.Equal("context_length_exceeded", (string?)error["code"]);
        Assert.Contains("64", (string?)error["message"]);
        // A short prompt whose max_tokens would run past the context is refused the same way.
        (status, error, _) = await Post(http, "/v1/completions", "{\"model\":\"tiny-gpt2\",\"prompt\":\"the cat\",\"max_tokens\":500}");
        Assert.Equal(400, status);
        Assert.Equal("context_length_exceeded", (string?)error["code"]);
    }

    [Fact]
    public async Task AnUnknownModelIs404()
    {
        await using var server = await TestServer.StartAsync(Dir);
        using var http = TestServer.Http(server);
        var (status, error, _) = await Post(http, "/v1/chat/completions", Chat(model: "gpt-4"));
        Assert.Equal(404, status);
        Assert.Equal("model_not_found", (string?)error["code"]);
        Assert.Contains("tiny-gpt2", (string?)error["message"]);
        // --served-model-name replaces the directory's name.
        await using var renamed = await TestServer.StartAsync(Dir, o => o with { ServedModelName = "my-model" });
        using var http2 = TestServer.Http(renamed);
        Assert.Equal(404, (await Post(http2, "/v1/chat/completions", Chat())).Status);
        Assert.Equal(200, (int)(await http2.PostAsync("/v1/chat/completions", new StringContent(Chat(",\"max_tokens\":2", model: "my-model"), Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task KeysAreRequiredExceptForHealth()
    {
        await using var server = await TestServer.StartAsync(Dir, o => o with { ApiKeys = ["sk-one", "sk-two"] });
        using var none = TestServer.Http(server);
        var (status, error, _) = await Post(none, "/v1/chat/completions", Chat());
        Assert.Equal(401, status);
        Assert.Equal("invalid_api_key", (string?)error["code"]);
        using var wrong = TestServer.Http(server, "sk-three");
        Assert.Equal(401, (await Post(wrong, "/v1/chat/completions", Chat())).Status);
        Assert.Equal(401, (int)(await none.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(200, (int)(await none.GetAsync("/health")).StatusCode);
        using var right = TestServer.Http(server, "sk-two");
        Assert.Equal(200, (int)(await right.PostAsync("/v1/chat/completions", new StringContent(Chat(",\"max_tokens\":2"), Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413()
    {
        await using var server = await TestServer.StartAsync(Dir);
        using var http = TestServer.Http(server);
        // 20 MB of JSON: over the default 8 MiB limit.
        string big = Chat(messages: $"[{{\"role\":\"user\",\"content\":\"{new string('a', 20_000_000)}\"}}]");
        var (status, error, _) = await Post(http, "/v1/chat/completions", big);
        Assert.Equal(413, status);
        Assert.Contains("--max-body-mb", (string?)error["message"]);
        // The server is fine afterwards.
        Assert.Equal(200, (int)(await http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task RateLimitsAndAFullQueueAre429WithRetryAfter()
    {
        await using (var server = await TestServer.StartAsync(Dir, o => o with { ApiKeys = ["sk-a", "sk-b"], RequestsPerMinute = 2 }))
        {
            using var a = TestServer.Http(server, "sk-a");
            for (int i = 0; i < 2; i++) Assert.Equal(200, (int)(await a.GetAsync("/v1/models")).StatusCode);
            var (status, error, response) = await Post(a, "/v1/chat/completions", Chat());
            Assert.Equal(429, status);
            Assert.Equal("rate_limit_exceeded", (string?)error["code"]);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            // The limit is per key.
            using var b = TestServer.Http(server, "sk-b");
            Assert.Equal(200, (int)(await b.GetAsync("/v1/models")).StatusCode);
        }
        await using (var server = await TestServer.StartAsync(Dir, o => o with { MaxQueuedRequests = 1 }))
        {
            using var http = TestServer.Http(server);
            // A request whose body is still arriving holds the only slot.
            var gated = new GatedContent("{\"model\":\"tiny-gpt2\",", "\"prompt\":\"the\",\"max_tokens\":2}");
            var held = http.PostAsync("/v1/completions", gated);
            await gated.FirstPartSent;
            for (int i = 0; i < 500 && server.Metrics.InFlight == 0; i++) await Task.Delay(10);
            var (status, error, response) = await Post(http, "/v1/completions", "{\"model\":\"tiny-gpt2\",\"prompt\":\"the\",\"max_tokens\":2}");
            Assert.Equal(429, status);
            Assert.Equal("queue_full", (string?)error["code"]);
            Assert.NotNull(response.Headers.RetryAfter);
            gated.Open();
            Assert.Equal(200, (int)(await held).StatusCode);
        }
    }

    [Fact]
    public async Task ARequestPastTheTimeoutIs408()
    {
        await using var server = await TestServer.StartAsync(Dir, o => o with { RequestTimeout = TimeSpan.FromMilliseconds(1) });
        using var http = TestServer.Http(server);
        var (status, error, _) = await Post(http, "/v1/completions", "{\"model\":\"tiny-gpt2\",\"prompt\":\"the\",\"max_tokens\":60}");
        Assert.Equal(408, status);
        Assert.Equal("timeout", (string?)error["code"]);
        Assert.Equal(0, await TestServer.BlocksInUseAfterSettling(server.Engine));
    }

    [Fact]
    public async Task ShutdownRefusesNewRequestsWith503AndEndsInFlightStreams()
    {
        var server = await TestServer.StartAsync(Dir, o => o with { ShutdownGrace = TimeSpan.FromSeconds(20) });
        try
        {
            using var http = TestServer.Http(server);
            // An in-flight request (its body still arriving) keeps the server draining.
            var gated = new GatedContent("{\"model\":\"tiny-gpt2\",", "\"prompt\":\"the\",\"max_tokens\":40,\"stream\":true,\"temperature\":0}");
            var held = http.PostAsync("/v1/completions", gated);
            await gated.FirstPartSent;
            for (int i = 0; i < 500 && server.Metrics.InFlight == 0; i++) await Task.Delay(10);
            var stopping = server.StopAsync();
            var (status, error, response) = await Post(http, "/v1/chat/completions", Chat());
            Assert.Equal(503, status);
            Assert.Equal("server_shutting_down", (string?)error["code"]);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal(503, (int)(await http.GetAsync("/health")).StatusCode);
            // The in-flight request is still served to its end.
            gated.Open();
            string stream = await (await held).Content.ReadAsStringAsync();
            Assert.EndsWith("data: [DONE]", stream.TrimEnd());
            Assert.DoesNotContain("\"error\"", stream);
            await stopping;
            Assert.Equal(0, await TestServer.BlocksInUseAfterSettling(server.Engine));
        }
        finally { await server.DisposeAsync(); }
    }

    [Fact]
    public async Task StreamsStillRunningWhenTheGraceEndsAreCancelledWithAnErrorEvent()
    {
        var server = await TestServer.StartAsync(Dir, o => o with { ShutdownGrace = TimeSpan.Zero });
        try
        {
            using var http = TestServer.Http(server);
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("{\"model\":\"tiny-gpt2\",\"prompt\":\"the\",\"max_tokens\":60,\"stream\":true,\"temperature\":0}", Encoding.UTF8, "application/json"),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            await server.StopAsync();
            // Finished before the cut, or cut with a 503 error event: either way it ends with [DONE].
            string rest = await reader.ReadToEndAsync();
            Assert.EndsWith("data: [DONE]", rest.TrimEnd());
            if (rest.Contains("\"error\"")) Assert.Contains("server_shutting_down", rest);
            Assert.Equal(0, await TestServer.BlocksInUseAfterSettling(server.Engine));
        }
        finally { await server.DisposeAsync(); }
    }
}
