// Completions with echo (OpenAI's legacy API, what lm-eval's local-completions sends): the prompt
// comes back as the text, and with logprobs its token log-probs, the first null — each checked
// against a naive log-softmax over the logits of the same directory loaded as a plain model (one
// forward over the prompt, no engine); echo with max_tokens > 0 is the prompt followed by the very
// completion the request without echo returns; echo + stream is a 400 naming 'echo'.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loom.Models;
using Loom.Tokenizers;

namespace Loom.Serving.Tests.Protocol;

public sealed class EchoTests
{
    [Fact]
    public async Task EchoReturnsThePromptTokensLogprobs()
    {
        string dir = TestServer.MakeModelDir();
        const string prompt = "the cat sat on the mat";
        await using var server = await TestServer.StartAsync(dir);
        using var http = TestServer.Http(server);
        var body = new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = prompt, ["echo"] = true, ["max_tokens"] = 0, ["logprobs"] = 2 };
        var response = await http.PostAsJsonAsync("/v1/completions", body);
        string raw = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, raw);
        var choice = JsonNode.Parse(raw)!["choices"]![0]!;
        Assert.Equal(prompt, choice["text"]!.GetValue<string>());
        Assert.Equal("length", choice["finish_reason"]!.GetValue<string>());
        var lp = choice["logprobs"]!;

        int[] ids = TestServer.Tokenizer.Encode(prompt, SpecialTokenPolicy.All);
        var tokens = lp["tokens"]!.AsArray();
        Assert.Equal(ids.Length, tokens.Count);
        Assert.Equal(prompt, string.Concat(tokens.Select(t => t!.GetValue<string>())));
        Assert.Null(lp["token_logprobs"]![0]);
        Assert.Null(lp["top_logprobs"]![0]);
        // text_offset: where each token starts in the echoed text.
        int offset = 0;
        for (int t = 0; t < ids.Length; t++) { Assert.Equal(offset, lp["text_offset"]![t]!.GetValue<int>()); offset += tokens[t]!.GetValue<string>().Length; }

        using var model = CausalLanguageModels.Load(dir, ModelOptions.Inference);
        model.Forward(ids, [], 1, ids.Length);
        var logits = model.Logits.ToArray();
        int V = model.VocabularySize;
        for (int t = 1; t < ids.Length; t++)
        {
            var row = logits.AsSpan((t - 1) * V, V).ToArray();
            double logZ = Math.Log(row.Sum(x => Math.Exp(x)));
            Assert.Equal(row[ids[t]] - logZ, lp["token_logprobs"]![t]!.GetValue<double>(), 4);
            var top = lp["top_logprobs"]![t]!.AsObject();
            Assert.InRange(top.Count, 1, 2);
            int best = Array.IndexOf(row, row.Max());
            Assert.Equal(row[best] - logZ, top[TestServer.Tokenizer.Decode([best])]!.GetValue<double>(), 4);
        }
        Assert.Equal(ids.Length, JsonNode.Parse(raw)!["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(0, JsonNode.Parse(raw)!["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task EchoWithMaxTokensIsThePromptThenTheCompletion()
    {
        string dir = TestServer.MakeModelDir();
        await using var server = await TestServer.StartAsync(dir);
        using var http = TestServer.Http(server);
        var plain = new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = "the dog", ["max_tokens"] = 4, ["temperature"] = 0, ["logprobs"] = 1 };
        var echo = (JsonObject)plain.DeepClone();
        echo["echo"] = true;
        var a = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/completions", plain)).Content.ReadAsStringAsync())!["choices"]![0]!;
        var b = JsonNode.Parse(await (await http.PostAsJsonAsync("/v1/completions", echo)).Content.ReadAsStringAsync())!["choices"]![0]!;
        Assert.Equal("the dog" + a["text"]!.GetValue<string>(), b["text"]!.GetValue<string>());
        int promptTokens = TestServer.Tokenizer.Encode("the dog", SpecialTokenPolicy.All).Length;
        var generated = a["logprobs"]!["token_logprobs"]!.AsArray();
        var all = b["logprobs"]!["token_logprobs"]!.AsArray();
        Assert.Equal(promptTokens + generated.Count, all.Count);
        for (int i = 0; i < generated.Count; i++) Assert.Equal(generated[i]!.GetValue<double>(), all[promptTokens + i]!.GetValue<double>(), 4);
        Assert.Equal(7, b["logprobs"]!["text_offset"]![promptTokens]!.GetValue<int>());

        var stream = (JsonObject)echo.DeepClone();
        stream["stream"] = true;
        var refused = await http.PostAsJsonAsync("/v1/completions", stream);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("echo", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
        var zero = new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = "the dog", ["max_tokens"] = 0 };
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("/v1/completions", zero)).StatusCode);
    }
}
