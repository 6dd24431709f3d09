// Clients that leave: a stream abandoned after its first chunk, and a few hundred requests of every
// kind (streamed, not, malformed, over the context) cut at random moments, a bounded number and all
// with small max_tokens. The server must answer the ones that stay, never crash, keep serving, and
// every KV block must be back in the pool afterwards (the engine's own counters).
using System.Text;
using System.Text.Json.Nodes;

namespace Loom.Serving.Tests.Http;

public sealed class FaultTests
{
    private static readonly string Dir = TestServer.MakeModelDir(context: 256);

    [Fact]
    public async Task AClientThatDisconnectsMidStreamCancelsItsRequest()
    {
        await using var server = await TestServer.StartAsync(Dir);
        using var http = TestServer.Http(server);
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"the cat\"}],\"max_tokens\":90,\"stream\":true,\"temperature\":0.9,\"seed\":1}", Encoding.UTF8, "application/json"),
        };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        response.Dispose();   // the client goes away
        Assert.Equal(0, await TestServer.BlocksInUseAfterSettling(server.Engine));
        for (int i = 0; i < 200 && server.Metrics.InFlight > 0; i++) await Task.Delay(20);
        Assert.Equal(0, server.Metrics.InFlight);
        // Closed by the client: logged as 499 (or finished as 200 when it was faster than the disconnect).
        Assert.Equal(1, server.Metrics.Requests("/v1/chat/completions", 499) + server.Metrics.Requests("/v1/chat/completions", 200));
    }

    [Fact]
    public async Task HundredsOfRequestsWithRandomDisconnectsLeaveNoBlockBehind()
    {
        await using var server = await TestServer.StartAsync(Dir, o => o with { MaxBatch = 8 });
        using var http = TestServer.Http(server);
        var random = new Random(12345);
        const int Requests = 240;
        string longPrompt = string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 120));
        var kinds = Enumerable.Range(0, Requests).Select(_ => (Kind: random.Next(6), CancelAfterMs: random.Next(0, 40), Seed: random.Next())).ToList();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        using var gate = new SemaphoreSlim(16);
        var tasks = kinds.Select(async k =>
        {
            await gate.WaitAsync();
            try
            {
                string body = k.Kind switch
                {
                    0 => $"{{\"model\":\"tiny-gpt2\",\"messages\":[{{\"role\":\"user\",\"content\":\"the dog\"}}],\"max_tokens\":20,\"stream\":true,\"temperature\":1,\"seed\":{k.Seed}}}",
                    1 => $"{{\"model\":\"tiny-gpt2\",\"prompt\":\"the cat\",\"max_tokens\":16,\"n\":2,\"temperature\":1,\"seed\":{k.Seed}}}",
                    2 => "{\"model\":\"tiny-gpt2\",\"prompt\":[\"the\",\"a cat\"],\"max_tokens\":12,\"stream\":true}",
                    3 => "{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":",   // malformed
                    4 => $"{{\"model\":\"tiny-gpt2\",\"prompt\":\"{longPrompt}\",\"max_tokens\":10}}",   // over the context
                    _ => "{\"model\":\"tiny-gpt2\",\"input\":\"the cat sat\"}",
                };
                string path = k.Kind switch { 0 or 3 => "/v1/chat/completions", 5 => "/v1/embeddings", _ => "/v1/completions" };
                using var cts = new CancellationTokenSource();
                if (k.CancelAfterMs < 25) cts.CancelAfter(k.CancelAfterMs);   // about 60% of clients leave early
                try
                {
                    using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), cts.Token);
                    string text = await response.Content.ReadAsStringAsync(cts.Token);
                    statuses.Add((int)response.StatusCode);
                    int expected = k.Kind switch { 3 or 4 => 400, _ => 200 };
                    Assert.Equal(expected, (int)response.StatusCode);
                    if (k.Kind is 0 or 2) Assert.EndsWith("data: [DONE]", text.TrimEnd());
                }
                catch (OperationCanceledException) { statuses.Add(-1); }
                catch (HttpRequestException) { statuses.Add(-1); }
                catch (IOException) { statuses.Add(-1); }
            }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(4));

        Assert.Equal(Requests, statuses.Count);
        Assert.Equal(0, await TestServer.BlocksInUseAfterSettling(server.Engine));
        for (int i = 0; i < 250 && server.Metrics.InFlight > 0; i++) await Task.Delay(20);
        Assert.Equal(0, server.Metrics.InFlight);
        // Still serving.
        var after = await http.PostAsync("/v1/completions", new StringContent("{\"model\":\"tiny-gpt2\",\"prompt\":\"the\",\"max_tokens\":3}", Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)after.StatusCode);
        Assert.Equal(0, await TestServer.BlocksInUseAfterSettling(server.Engine));
        var stats = JsonNode.Parse(await http.GetStringAsync("/health"))!;
        Assert.Equal("ok", (string?)stats["status"]);
    }
}
