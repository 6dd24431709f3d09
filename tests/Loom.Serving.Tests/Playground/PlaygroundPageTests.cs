// The playground page at "/": served without a key (its API calls carry the key typed into it) and
// the request it builds is one the server accepts. Its script is exercised end to end in headless
// Chromium by Browser/PlaygroundBrowserTests.
using System.Text;

namespace Loom.Serving.Tests.Playground;

public sealed class PlaygroundPageTests
{
    private static readonly string Dir = TestServer.MakeModelDir();

    [Fact]
    public async Task ThePageIsServedWithoutAKeyAndItsRequestIsAccepted()
    {
        await using var server = await TestServer.StartAsync(Dir, o => o with { ApiKeys = ["sk-page"] });
        using var anonymous = TestServer.Http(server);
        var page = await anonymous.GetAsync("/");
        Assert.Equal(200, (int)page.StatusCode);
        Assert.StartsWith("text/html", page.Content.Headers.ContentType!.ToString());
        string html = await page.Content.ReadAsStringAsync();
        foreach (var s in new[] { "/v1/chat/completions", "/v1/models", "/metrics", "stream_options", "Bearer " }) Assert.Contains(s, html);

        // The body the page's send() builds, with every setting it offers.
        using var http = TestServer.Http(server, "sk-page");
        string body = "{\"model\":\"tiny-gpt2\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"system\",\"content\":\"the cat\"},{\"role\":\"user\",\"content\":\"the dog\"}],\"temperature\":0.7,\"top_p\":1,\"max_tokens\":8,\"seed\":3}";
        var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.EndsWith("data: [DONE]", (await response.Content.ReadAsStringAsync()).TrimEnd());
    }
}
