// The two real-world classifiers behind ITextClassifier: a saved sequence-classifier directory (its
// probabilities against the model's own forward + softmax) and an OpenAI-compatible endpoint (a fake
// chat-completions server on loopback answering from a known rule, with and without logprobs).
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Loom.Explain.Classifiers;
using Loom.Explain.Lime;
using Loom.Models;
using Loom.Models.Classification;
using Loom.Explain.Tests.Gradients;

namespace Loom.Explain.Tests.Classifiers;

public sealed class ClassifierAdapterTests
{
    internal static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "great", "good", "awful", "bad", "plot", "and", "a", "very", "film", "it", "is"];

    /// <summary>A saved tiny BERT classifier directory with a WordPiece vocabulary (untrained weights, a head with large weights).</summary>
    internal static string SavedBert()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-explain-" + Guid.NewGuid().ToString("N"));
        using var model = IntegratedGradientsTests.Tiny("bert");
        model.Save(dir);
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), Vocabulary.Concat(Enumerable.Range(0, 64 - Vocabulary.Length).Select(i => $"w{i}")));
        return dir;
    }

    [Fact]
    public async Task ASavedClassifierGivesTheSoftmaxOfItsOwnForward()
    {
        string dir = SavedBert();
        using var c = SequenceTextClassifier.Open(dir);
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], c.Labels);
        var p = await c.PredictAsync(["the movie was great", "bad plot", "the movie was great"]);
        Assert.Equal(3, p.Length);
        Assert.All(p, r => Assert.Equal(1.0, r.Sum(), 9));
        Assert.Equal(p[0], p[2]);
        var (ids, types, _) = c.Encoder.Encode("the movie was great", null, 32, Loom.Training.Classification.TruncationPolicy.Head);
        Assert.Equal(new[] { 2, 5, 6, 7, 8, 3 }, ids);   // [CLS] the movie was great [SEP]
        c.Model.Forward(new TokenBatch(ids, 1, ids.Length) { TokenTypes = types }, default);
        var z = c.Model.Scores.ToArray();
        double max = z.Max(), s = z.Sum(v => Math.Exp(v - max));
        for (int j = 0; j < 3; j++) Assert.Equal(Math.Exp(z[j] - max) / s, p[0][j], 1e-5);   // float32 forward, batch of 3 padded vs 1
    }

    [Fact]
    public async Task AnEndpointIsReadFromTopLogprobsOrFromItsAnswer()
    {
        // positive when the text holds "good", with logprobs: log 0.8 for "pos", log 0.15 for "neg", an unrelated token
        using var server = new FakeChatServer(user =>
        {
            bool good = user.Contains("good", StringComparison.Ordinal);
            return (good ? "positive" : "negative", [(good ? "pos" : "neg", Math.Log(0.8)), (good ? "neg" : "pos", Math.Log(0.15)), ("The", Math.Log(0.05))]);
        });
        using var c = new EndpointTextClassifier(new EndpointClassifierOptions { BaseUrl = server.BaseUrl, Labels = ["negative", "positive"] });
        var p = await c.PredictAsync(["a good film", "a dull film"]);
        Assert.Equal(0.8 / 0.95, p[0][1], 9);
        Assert.Equal(0.8 / 0.95, p[1][0], 9);
        Assert.Contains("Classify the user's text into exactly one of these classes: negative, positive.", server.LastSystem);

        using var plain = new FakeChatServer(user => (user.Contains("good", StringComparison.Ordinal) ? "Positive." : "I cannot say", null));
        using var c2 = new EndpointTextClassifier(new EndpointClassifierOptions { BaseUrl = plain.BaseUrl, Labels = ["negative", "positive"] });
        var q = await c2.PredictAsync(["good", "meh"]);
        Assert.Equal([0.0, 1.0], q[0]);
        Assert.Equal([0.5, 0.5], q[1]);
        Assert.Equal(1, c2.Unparsed);
    }

    [Fact]
    public async Task LimeThroughAnEndpointFindsTheWordItDecidesBy()
    {
        using var server = new FakeChatServer(user =>
        {
            bool good = user.Contains("good", StringComparison.Ordinal);
            return (good ? "positive" : "negative", [(good ? "positive" : "negative", Math.Log(0.9)), (good ? "negative" : "positive", Math.Log(0.1))]);
        });
        using var c = new EndpointTextClassifier(new EndpointClassifierOptions { BaseUrl = server.BaseUrl, Labels = ["negative", "positive"], MaxConcurrency = 8 });
        var e = await new LimeTextExplainer(c, new LimeTextOptions { Samples = 200, Features = 3 }).ExplainAsync("the plot was good and the music loud");
        var positive = e.Classes.Single(x => x.Label == "positive");
        Assert.Equal("good", positive.Top[0].Word);
        Assert.True(positive.Top[0].Weight > 0.5);
        Assert.True(server.Requests >= 150);   // 200 texts, some identical perturbations aside: one request each
    }

    [Fact]
    public async Task AnEndpointErrorNamesTheUrlAndStatus()
    {
        using var server = new FakeChatServer(_ => throw new InvalidOperationException("boom"));
        using var c = new EndpointTextClassifier(new EndpointClassifierOptions { BaseUrl = server.BaseUrl, Labels = ["a", "b"] });
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => c.PredictAsync(["x"]));
        Assert.Contains("/chat/completions answered 500", ex.Message);
    }
}

/// <summary>A chat-completions endpoint on loopback answering from a rule: (content, top_logprobs of the first token or null).</summary>
internal sealed class FakeChatServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<string, (string Content, (string Token, double LogProb)[]? Top)> _answer;
    private int _requests;

    public Uri BaseUrl { get; }
    public string LastSystem { get; private set; } = "";
    public int Requests => _requests;

    public FakeChatServer(Func<string, (string, (string, double)[]?)> answer)
    {
        _answer = answer;
        for (int attempt = 0; ; attempt++)
        {
            int port = Random.Shared.Next(20000, 60000);
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                BaseUrl = new Uri($"http://127.0.0.1:{port}/v1");
                break;
            }
            catch (HttpListenerException) when (attempt < 20) { }
        }
        _ = Task.Run(Loop);
    }

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch { return; }
            _ = Task.Run(() => Handle(ctx));
        }
    }

    private void Handle(HttpListenerContext ctx)
    {
        Interlocked.Increment(ref _requests);
        try
        {
            var body = JsonNode.Parse(new StreamReader(ctx.Request.InputStream).ReadToEnd())!;
            var messages = body["messages"]!.AsArray();
            LastSystem = (string)messages[0]!["content"]!;
            string user = (string)messages[^1]!["content"]!;
            var (content, top) = _answer(user);
            var choice = new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content }, ["finish_reason"] = "stop" };
            if (top != null)
                choice["logprobs"] = new JsonObject
                {
                    ["content"] = new JsonArray(new JsonObject
                    {
                        ["token"] = top[0].Token, ["logprob"] = top[0].LogProb,
                        ["top_logprobs"] = new JsonArray(top.Select(t => (JsonNode)new JsonObject { ["token"] = t.Token, ["logprob"] = t.LogProb }).ToArray()),
                    }),
                };
            Write(ctx, 200, new JsonObject { ["id"] = "x", ["object"] = "chat.completion", ["choices"] = new JsonArray(choice) }.ToJsonString());
        }
        catch (Exception e)
        {
            Write(ctx, 500, new JsonObject { ["error"] = new JsonObject { ["message"] = e.Message } }.ToJsonString());
        }
    }

    private static void Write(HttpListenerContext ctx, int status, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.OutputStream.Write(bytes);
        ctx.Response.Close();
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
