// The playground page at "/" driven in headless Chromium against a real server on loopback: the page
// shows the served model's info, takes sampling settings and a prompt, streams the answer in, and its
// metrics panel picks up the request. The reference for the streamed text is the same request sent
// without streaming (greedy, so both must be the same tokens): it checks the page's SSE reading
// (fetch + ReadableStream, events split on blank lines, deltas concatenated) end to end.
using System.Text;
using System.Text.Json;
using OpenQA.Selenium;

namespace Loom.Serving.Tests.Browser;

[Collection(nameof(BrowserCollection))]
public sealed class PlaygroundBrowserTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [BrowserFact]
    public async Task AStreamedAnswerAppearsAndTheMetricsPanelCountsIt()
    {
        string dir = TestServer.MakeModelDir();
        await using var server = await TestServer.StartAsync(dir);
        using var driver = Chromium.Start();
        driver.Navigate().GoToUrl(server.BaseAddress!);

        // The model's info, from /v1/models.
        var model = driver.FindElement(By.Id("model"));
        await Chromium.WaitUntil(() => model.Text.Contains("tiny-gpt2"), Bound, () => $"#model reads '{model.Text}'");
        Assert.Equal("tiny-gpt2 (context 256 tokens)", model.Text);

        // The metrics panel before the chat (polled every 2 s).
        await Chromium.WaitUntil(() => Metric(driver, "kv_blocks_total") > 0, Bound, () => $"kv_blocks_total reads {Metric(driver, "kv_blocks_total")}");
        Assert.Equal(0, Metric(driver, "generation_tokens_total"));
        Assert.Null(Metric(driver, "requests_total")); // no request answered yet: the row reads "–"

        // Sampling settings, then the prompt.
        Set(driver, "temperature", "0");
        Set(driver, "max_tokens", "8");
        Set(driver, "seed", "3");
        driver.FindElement(By.Id("prompt")).SendKeys("the cat");
        driver.FindElement(By.Id("send")).Click();

        var chat = driver.FindElement(By.Id("chat"));
        await Chromium.WaitUntil(() => chat.GetDomAttribute("data-state") == "idle", Bound, () => $"streaming has not ended (data-state '{chat.GetDomAttribute("data-state")}')");
        var messages = driver.FindElements(By.CssSelector("#log .msg"));
        Assert.Equal(2, messages.Count);
        Assert.Equal("msg user", messages[0].GetDomAttribute("class"));
        Assert.Equal("the cat", messages[0].GetDomProperty("textContent"));
        Assert.Equal("msg assistant", messages[1].GetDomAttribute("class"));
        string streamed = messages[1].GetDomProperty("textContent")!;

        // The usage chunk (stream_options.include_usage) lands in the answer's tooltip: "P prompt + C completion tokens".
        var usage = System.Text.RegularExpressions.Regex.Match(messages[1].GetDomAttribute("title") ?? "", @"^(\d+) prompt \+ (\d+) completion tokens$");
        Assert.True(usage.Success, $"the answer's title is '{messages[1].GetDomAttribute("title")}'");
        int promptTokens = int.Parse(usage.Groups[1].Value), completionTokens = int.Parse(usage.Groups[2].Value);
        Assert.InRange(completionTokens, 1, 8);

        // The live metrics panel counts exactly this chat (only generation requests are counted; the
        // page's own /v1/models and /metrics calls are not).
        await Chromium.WaitUntil(() => Metric(driver, "requests_total") == 1, Bound, () => $"requests_total reads {Metric(driver, "requests_total")}");
        Assert.Equal(completionTokens, Metric(driver, "generation_tokens_total"));
        Assert.Equal(promptTokens, Metric(driver, "prompt_tokens_total"));

        // The reference: the same request, not streamed.
        using var http = TestServer.Http(server);
        string body = "{\"model\":\"tiny-gpt2\",\"messages\":[{\"role\":\"user\",\"content\":\"the cat\"}],\"temperature\":0,\"top_p\":1,\"max_tokens\":8,\"seed\":3}";
        var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), streamed);
        Assert.Equal(completionTokens, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(promptTokens, json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        Assert.Empty(Chromium.ConsoleErrors(driver));
    }

    private static void Set(IWebDriver driver, string id, string value)
    {
        var input = driver.FindElement(By.Id(id));
        input.Clear();
        input.SendKeys(value);
    }

    /// <summary>The value the metrics table shows for <paramref name="name"/>; null when there is no such row or it reads "–".
    /// Read in one script call: the page rebuilds the table every 2 s, so element handles go stale.</summary>
    private static double? Metric(IWebDriver driver, string name)
    {
        object? text = ((IJavaScriptExecutor)driver).ExecuteScript(
            "for (const r of document.querySelectorAll('#metrics tr')) if (r.cells[0].textContent === arguments[0]) return r.cells[1].textContent; return null;", name);
        return text is string t && double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : null;
    }
}
