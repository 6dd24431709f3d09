// The prompt the server runs: a BOS token only when tokenizer_config.json says add_bos_token, and
// usage.prompt_tokens counted exactly (the tokenizer's count of the rendered prompt, + 1 for BOS).
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loom.Tokenizers;

namespace Loom.Serving.Tests.Protocol;

public sealed class PromptTokensTests
{
    private static async Task<int> PromptTokens(string dir, string path, JsonObject body)
    {
        await using var server = await TestServer.StartAsync(dir);
        using var http = TestServer.Http(server);
        var json = JsonNode.Parse(await (await http.PostAsJsonAsync(path, body)).Content.ReadAsStringAsync())!;
        return (int)json["usage"]!["prompt_tokens"]!;
    }

    [Fact]
    public async Task BosIsAddedOnlyWhenTheTokenizerConfigAsks()
    {
        string dir = TestServer.MakeModelDir();
        var completion = new JsonObject { ["model"] = "tiny-gpt2", ["prompt"] = "the cat sat", ["max_tokens"] = 2 };
        var chat = new JsonObject { ["model"] = "tiny-gpt2", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "the dog" }), ["max_tokens"] = 2 };
        int plain = TestServer.Tokenizer.Encode("the cat sat", SpecialTokenPolicy.All).Length;
        int chatPlain = TestServer.Tokenizer.Encode(TestServer.ChatML(("user", "the dog")), SpecialTokenPolicy.All).Length;
        Assert.Equal(plain, await PromptTokens(dir, "/v1/completions", completion));
        Assert.Equal(chatPlain, await PromptTokens(dir, "/v1/chat/completions", chat));

        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"add_bos_token\": true, \"bos_token\": \"<|endoftext|>\"}");
        Assert.Equal(plain + 1, await PromptTokens(dir, "/v1/completions", completion));
        Assert.Equal(chatPlain + 1, await PromptTokens(dir, "/v1/chat/completions", chat));

        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"add_bos_token\": false, \"bos_token\": \"<|endoftext|>\"}");
        Assert.Equal(plain, await PromptTokens(dir, "/v1/completions", completion));
    }
}
