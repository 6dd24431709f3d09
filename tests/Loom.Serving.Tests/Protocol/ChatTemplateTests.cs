// The chat format the server renders: the model's own chat_template from tokenizer_config.json,
// a --chat-template file over it, ChatML when neither exists; a template's raise_exception is a 400
// on messages; a template that does not parse fails at start naming the file. The expected prompts are
// written out by hand from the templates below (simple enough to read), and the server's
// usage.prompt_tokens must equal the tokenizer's count of that text.
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Loom.Serving.Hosting;
using Loom.Tokenizers;

namespace Loom.Serving.Tests.Protocol;

public sealed class ChatTemplateTests
{
    private const string ModelTemplate =
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
        "[{{ m['role'] }}] {{ m['content'] | trim }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}";

    private static readonly JsonArray Messages = new(new JsonObject { ["role"] = "user", ["content"] = "  the cat " }, new JsonObject { ["role"] = "assistant", ["content"] = "sat" }, new JsonObject { ["role"] = "user", ["content"] = "where" });

    private static async Task<(int Status, JsonNode Body)> Chat(LoomServer server, JsonArray messages)
    {
        using var http = TestServer.Http(server);
        var response = await http.PostAsJsonAsync("/v1/chat/completions", new JsonObject { ["model"] = "tiny-gpt2", ["messages"] = messages.DeepClone(), ["max_tokens"] = 3, ["temperature"] = 0 });
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static int Tokens(string text) => TestServer.Tokenizer.Encode(text, SpecialTokenPolicy.All).Length;

    [Fact]
    public async Task TheModelsTemplateThenAFileOverItThenChatML()
    {
        string dir = TestServer.MakeModelDir();
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), new JsonObject { ["chat_template"] = ModelTemplate, ["eos_token"] = "<|endoftext|>" }.ToJsonString());
        await using (var server = await TestServer.StartAsync(dir))
        {
            var (status, body) = await Chat(server, Messages);
            Assert.Equal(200, status);
            Assert.Equal(Tokens("[user] the cat\n[assistant] sat\n[user] where\n[assistant] "), (int)body["usage"]!["prompt_tokens"]!);
            (status, body) = await Chat(server, new JsonArray(new JsonObject { ["role"] = "system", ["content"] = "x" }));
            Assert.Equal(400, status);
            Assert.Equal("messages", (string?)body["error"]!["param"]);
            Assert.Contains("System role not supported", (string?)body["error"]!["message"]);
        }
        string file = Path.Combine(Path.GetDirectoryName(dir)!, "mine.jinja");
        File.WriteAllText(file, "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}");
        await using (var server = await TestServer.StartAsync(dir, o => o with { ChatTemplatePath = file }))
        {
            var (status, body) = await Chat(server, Messages);
            Assert.Equal(200, status);
            Assert.Equal(Tokens("<user>  the cat <assistant>sat<user>where<assistant>"), (int)body["usage"]!["prompt_tokens"]!);
        }
        File.Delete(Path.Combine(dir, "tokenizer_config.json"));
        await using (var server = await TestServer.StartAsync(dir))
        {
            var (_, body) = await Chat(server, Messages);
            Assert.Equal(Tokens(TestServer.ChatML(("user", "  the cat "), ("assistant", "sat"), ("user", "where"))), (int)body["usage"]!["prompt_tokens"]!);
        }
        File.WriteAllText(file, "{% for m in messages %}{{ m.content }");
        var e = Assert.ThrowsAny<Exception>(() => LoomServer.Create(new ServerOptions { ModelDirectory = dir, Port = 0, ChatTemplatePath = file }));
        Assert.Contains("mine.jinja", e.Message);
    }
}
