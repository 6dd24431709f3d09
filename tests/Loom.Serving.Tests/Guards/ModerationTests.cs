// POST /v1/moderations and the moderation screen of inputs and outputs. The moderation model here is a
// bag-of-words logistic classifier whose truth is known (labels neither/harassment): each expected
// score is σ(b + Σ coef) computed in the test, the reference the server's answer is checked against,
// read back through the official OpenAI .NET SDK's ModerationClient (the response shape) and as JSON.
using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loom.Explain.Classifiers;
using Loom.Serving.Guards;
using Loom.Serving.Hosting;
using OpenAI;

namespace Loom.Serving.Tests.Guards;

public sealed class ModerationTests
{
    private static readonly Dictionary<string, double> Coefficients = new() { ["idiot"] = 3.0, ["stupid"] = 2.5, ["hate"] = 1.0 };
    private const double Intercept = -2.0;

    private static double Expected(string text)
    {
        double z = Intercept;
        foreach (var w in text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct()) z += Coefficients.GetValueOrDefault(w.Trim('.', '!', '?', ','));
        return 1 / (1 + Math.Exp(-z));
    }

    private static ContentModerator Moderator(double intercept = Intercept) =>
        new(new BagOfWordsLogisticClassifier(Coefficients, intercept, ["neither", "harassment"]), "bow-moderation", ownsClassifier: true);

    private static Task<LoomServer> Start(Func<ServerOptions, ServerOptions> configure, ContentModerator? moderator)
    {
        var options = configure(new ServerOptions { ModelDirectory = TestServer.MakeModelDir(), Port = 0, KvCacheMegabytes = 4 });
        return StartWith(options, moderator);
    }

    private static async Task<LoomServer> StartWith(ServerOptions options, ContentModerator? moderator)
    {
        var server = LoomServer.Create(options, moderator);
        await server.StartAsync();
        return server;
    }

    [Fact]
    public async Task TheSdkReadsScoresEqualToTheClassifier()
    {
        await using var server = await Start(o => o, Moderator());
        var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress!, "/v1") }).GetModerationClient("bow-moderation");
        string[] texts = ["you stupid idiot", "what a lovely day", "I hate rain"];
        var results = (await client.ClassifyTextAsync(texts)).Value;
        Assert.Equal(texts.Length, results.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            double p = Expected(texts[i]);
            Assert.Equal(p, results[i].Harassment.Score, 5);
            Assert.Equal(p >= 0.5, results[i].Harassment.Flagged);
            Assert.Equal(p >= 0.5, results[i].Flagged);
        }
        Assert.True(results[0].Flagged);
        Assert.False(results[1].Flagged);
        Assert.Equal("bow-moderation", results.Model);
        Assert.StartsWith("modr-", results.Id);
    }

    [Fact]
    public async Task TheJsonHasOpenAIsShapeWithOnlyTheModelledCategories()
    {
        await using var server = await Start(o => o, Moderator());
        using var http = TestServer.Http(server);
        var response = await http.PostAsJsonAsync("/v1/moderations", new { input = "stupid idiot", model = "anything" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var result = body["results"]!.AsArray().Single()!;
        Assert.True((bool)result["flagged"]!);
        Assert.Equal(["harassment"], result["categories"]!.AsObject().Select(p => p.Key));
        Assert.Equal(Expected("stupid idiot"), (double)result["category_scores"]!["harassment"]!, 6);
        Assert.Equal("bow-moderation", (string)body["model"]!);
    }

    [Theory]
    [InlineData("""{"input": 3}""", "invalid_type")]
    [InlineData("""{"input": []}""", "invalid_value")]
    [InlineData("""{"text": "x"}""", "missing_required_parameter")]
    [InlineData("""{"input": [{"type": "image_url", "image_url": {"url": "http://x"}}]}""", "invalid_type")]
    public async Task BadRequestsAre400sNamingTheField(string json, string code)
    {
        await using var server = await Start(o => o, Moderator());
        using var http = TestServer.Http(server);
        var response = await http.PostAsync("/v1/moderations", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!);
    }

    [Fact]
    public async Task WithoutAModelTheEndpointSaysHowToLoadOne()
    {
        await using var server = await Start(o => o, null);
        using var http = TestServer.Http(server);
        var response = await http.PostAsJsonAsync("/v1/moderations", new { input = "x" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("moderation_not_configured", (string)error["code"]!);
        Assert.Contains("--moderation-model", (string)error["message"]!);
    }

    [Fact]
    public async Task InputScreenRefusesFlaggedUserTextAndFlagsWhenAskedTo()
    {
        await using (var refusing = await Start(o => o with { Moderate = ModerationScope.Input, ModerationAction = GuardAction.Refuse }, Moderator()))
        {
            using var http = TestServer.Http(refusing);
            var bad = await http.PostAsJsonAsync("/v1/chat/completions", new { model = "tiny-gpt2", max_tokens = 3, messages = new[] { new { role = "system", content = "be kind" }, new { role = "user", content = "you stupid idiot" } } });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("content_flagged", (string)JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["error"]!["code"]!);
            var good = await http.PostAsJsonAsync("/v1/chat/completions", new { model = "tiny-gpt2", max_tokens = 3, messages = new[] { new { role = "user", content = "the cat sat" } } });
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);
            Assert.False(good.Headers.Contains(ModerationGuard.Header));
            // The system turn is the operator's: not screened.
            var system = await http.PostAsJsonAsync("/v1/chat/completions", new { model = "tiny-gpt2", max_tokens = 3, messages = new[] { new { role = "system", content = "stupid idiot" }, new { role = "user", content = "the cat" } } });
            Assert.Equal(HttpStatusCode.OK, system.StatusCode);
        }
        await using var flagging = await Start(o => o with { Moderate = ModerationScope.Both, ModerationAction = GuardAction.Flag }, Moderator());
        using var h = TestServer.Http(flagging);
        var flagged = await h.PostAsJsonAsync("/v1/completions", new { model = "tiny-gpt2", max_tokens = 3, prompt = "stupid idiot" });
        Assert.Equal(HttpStatusCode.OK, flagged.StatusCode);
        string header = flagged.Headers.GetValues(ModerationGuard.Header).First();
        Assert.Equal($"input; categories=harassment; score={Expected("stupid idiot").ToString("F2", System.Globalization.CultureInfo.InvariantCulture)}; action=flag", header);
    }

    [Fact]
    public async Task OutputScreenEmptiesAFlaggedAnswerWithFinishReasonContentFilter()
    {
        // Intercept +5: every text is harassment with p ≥ σ(5), so every generated answer is flagged.
        await using (var server = await Start(o => o with { Moderate = ModerationScope.Output, ModerationAction = GuardAction.Refuse }, Moderator(intercept: 5)))
        {
            using var http = TestServer.Http(server);
            var chat = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/chat/completions", new { model = "tiny-gpt2", max_tokens = 4, temperature = 0, messages = new[] { new { role = "user", content = "the cat" } } })).Content.ReadAsStringAsync())!;
            Assert.Equal("", (string)chat["choices"]![0]!["message"]!["content"]!);
            Assert.Equal("content_filter", (string)chat["choices"]![0]!["finish_reason"]!);
            var completion = await http.PostAsJsonAsync("/v1/completions", new { model = "tiny-gpt2", max_tokens = 4, temperature = 0, prompt = "the cat" });
            Assert.StartsWith("output; categories=harassment", completion.Headers.GetValues(ModerationGuard.Header).First());
            var body = JsonNode.Parse(await completion.Content.ReadAsStringAsync())!;
            Assert.Equal("", (string)body["choices"]![0]!["text"]!);
            Assert.Equal("content_filter", (string)body["choices"]![0]!["finish_reason"]!);
            // Regression: a streamed answer went out unscreened under --moderate output; it is now refused.
            var streamed = await http.PostAsJsonAsync("/v1/completions", new { model = "tiny-gpt2", max_tokens = 4, temperature = 0, prompt = "the cat", stream = true });
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, streamed.StatusCode);
            var error = JsonNode.Parse(await streamed.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("stream_not_screened", (string)error["code"]!);
            Assert.Equal("stream", (string)error["param"]!);
        }
        // Input-only screening leaves the answer alone (and the prompt is flagged, not refused, under flag).
        await using var inputOnly = await Start(o => o with { Moderate = ModerationScope.Input }, Moderator(intercept: 5));
        using var h = TestServer.Http(inputOnly);
        var answer = JsonNode.Parse(await (await h.PostAsJsonAsync("/v1/completions", new { model = "tiny-gpt2", max_tokens = 4, temperature = 0, prompt = "the cat" })).Content.ReadAsStringAsync())!;
        Assert.NotEqual("content_filter", (string?)answer["choices"]![0]!["finish_reason"]);
        Assert.NotEqual("", (string)answer["choices"]![0]!["text"]!);
    }

    [Fact]
    public void DavidsonClassesMapToOpenAICategoriesAndOthersAreRefused()
    {
        Assert.Equal(new string?[] { "hate", "harassment", null }, ModerationCategories.Map(["hate", "offensive", "neither"], "m"));
        var e = Assert.Throws<InvalidDataException>(() => ModerationCategories.Map(["neither", "spam"], "DIR"));
        Assert.Contains("\"spam\"", e.Message);
        Assert.Throws<InvalidDataException>(() => ModerationCategories.Map(["ham", "neither"], "DIR"));
        Assert.Throws<ArgumentException>(() => LoomServer.Create(new ServerOptions { ModelDirectory = "x", Moderate = ModerationScope.Input }));
    }
}

/// <summary>The shipped Davidson moderation model (examples/moderation/model, trained by examples/moderation/finetune.yaml).</summary>
public sealed class ShippedModerationModelTests
{
    private static string Find(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (Path.Combine(d.FullName, relative) is var p && (Directory.Exists(p) || File.Exists(p))) return p;
        throw new DirectoryNotFoundException($"{relative} not found above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public async Task ScoresAreTheClassifiersProbabilitiesUnderTheDavidsonMapping()
    {
        string dir = Find(Path.Combine("examples", "moderation", "model"));
        var sample = File.ReadAllLines(Find(Path.Combine("data", "samples", "moderation", "test.jsonl"))).Select(l => JsonNode.Parse(l)!).ToList();
        var texts = sample.Select(r => (string)r["text"]!).ToList();
        using var moderator = ContentModerator.Open(dir);
        Assert.Equal(["harassment", "hate"], moderator.Categories);
        var verdicts = await moderator.ModerateAsync(texts);
        using var classifier = SequenceTextClassifier.Open(dir);
        Assert.Equal(["hate", "offensive", "neither"], classifier.Labels);
        var p = await classifier.PredictAsync(texts);
        int right = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            Assert.Equal(p[i][0], verdicts[i].Scores["hate"], 12);
            Assert.Equal(p[i][1], verdicts[i].Scores["harassment"], 12);
            Assert.Equal(p[i][0] >= 0.5 || p[i][1] >= 0.5, verdicts[i].Flagged);
            if (verdicts[i].Flagged == ((string)sample[i]["label"]! != "neither")) right++;
        }
        // The 90 held-out sample tweets (30 per class): flagged vs harmful. docs/SAFETY.md has the full split's figures.
        Assert.True(right >= 72, $"{right}/90 flagged correctly");
    }
}
