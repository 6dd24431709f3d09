// Where a chat template comes from: tokenizer_config.json's chat_template (a string, or the list of
// {name, template} with "default"/"tool_use" chosen as transformers' get_chat_template does), the special
// tokens beside it (strings or AddedToken objects), a --chat-template file, chat_template.jinja, and the
// documented ChatML default for a model with none. Bad files are expected errors naming the file.
using System.Text.Json.Nodes;
using Loom.Inference.Templates;

namespace Loom.Inference.Tests.Templates;

public sealed class ChatTemplateLoadingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-chat-template-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static readonly JsonArray OneUser = new(new JsonObject { ["role"] = "user", ["content"] = "hi" });

    [Fact]
    public void TheChatMLDefaultIsTransformersFormerDefaultTemplate()
    {
        // templates/chatml.jinja is transformers' class-level default_chat_template as huggingface.js's
        // e2e test quotes it (sources.json); Loom's default must be that text, so it renders what HF did.
        string reference = File.ReadAllText(Path.Combine(ChatTemplateFixtures.Directory, "templates", "chatml.jinja"));
        Assert.Equal(ChatTemplate.ChatMLSource, reference);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.ChatML.Render(OneUser, new ChatTemplateOptions { AddGenerationPrompt = true }));
    }

    [Fact]
    public void AStringTemplateAndItsSpecialTokensIncludingAddedTokenObjects()
    {
        string path = Write("tokenizer_config.json", """
            {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
             "eos_token": "</s>", "unk_token": null, "pad_token": null,
             "additional_special_tokens": ["<x>", {"content": "<y>"}],
             "chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.content }}]{% endfor %}{{ eos_token }}|{{ unk_token is defined }}|{{ additional_special_tokens|join(',') }}"}
            """);
        var template = ChatTemplate.FromTokenizerConfig(path)!;
        Assert.Equal("<s>[hi]</s>|False|<x>,<y>", template.Render(OneUser));
        Assert.Equal("<s>", template.SpecialTokens["bos_token"]);
    }

    [Fact]
    public void NamedTemplatesChooseDefaultOrToolUseAsTransformersDoes()
    {
        string path = Write("tokenizer_config.json", """
            {"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}, {"name": "rag", "template": "R"}]}
            """);
        Assert.Equal("D", ChatTemplate.FromTokenizerConfig(path)!.Render(OneUser));
        Assert.Equal("T", ChatTemplate.FromTokenizerConfig(path, forTools: true)!.Render(OneUser));
        Assert.Equal("R", ChatTemplate.FromTokenizerConfig(path, name: "rag")!.Render(OneUser));
        var e = Assert.Throws<KeyNotFoundException>(() => ChatTemplate.FromTokenizerConfig(path, name: "nope"));
        Assert.Contains("nope", e.Message);
        Assert.Contains("default, tool_use, rag", e.Message);

        string noDefault = Write("nodefault.json", """{"chat_template": [{"name": "tool_use", "template": "T"}]}""");
        var e2 = Assert.Throws<KeyNotFoundException>(() => ChatTemplate.FromTokenizerConfig(noDefault));
        Assert.Contains("none named 'default'", e2.Message);
        Assert.Equal("T", ChatTemplate.FromTokenizerConfig(noDefault, forTools: true)!.Render(OneUser));
    }

    [Fact]
    public void AModelWithoutATemplateGetsChatMLWithItsSpecialTokens()
    {
        Write("tokenizer_config.json", """{"eos_token": "<|endoftext|>"}""");
        var template = ChatTemplate.ForModel(_dir);
        Assert.Equal(ChatTemplate.ChatMLSource, template.Text);
        Assert.Equal("<|endoftext|>", template.SpecialTokens["eos_token"]);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n", template.Render(OneUser));
        Assert.Null(ChatTemplate.FromTokenizerConfig(Path.Combine(_dir, "tokenizer_config.json")));
    }

    [Fact]
    public void AChatTemplateFileWinsOverTheConfigAndChatTemplateJinjaIsRead()
    {
        Write("tokenizer_config.json", """{"bos_token": "<s>", "chat_template": "config"}""");
        string file = Write("custom.jinja", "{{ bos_token }}custom\n");
        Assert.Equal("<s>custom", ChatTemplate.ForModel(_dir, chatTemplateFile: file).Render(OneUser));
        Assert.Equal("config", ChatTemplate.ForModel(_dir).Render(OneUser));

        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"bos_token": "<s>"}""");
        Write("chat_template.jinja", "{{ bos_token }}jinja file");
        Assert.Equal("<s>jinja file", ChatTemplate.ForModel(_dir).Render(OneUser));
    }

    [Fact]
    public void BadFilesAreExpectedErrorsNamingTheFile()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => ChatTemplate.FromFile(Path.Combine(_dir, "none.jinja")));
        Assert.Contains("--chat-template", missing.Message);

        string notJson = Write("tokenizer_config.json", "{ not json");
        var e = Assert.Throws<InvalidDataException>(() => ChatTemplate.FromTokenizerConfig(notJson));
        Assert.Contains(notJson, e.Message);

        string wrongType = Write("wrong.json", """{"chat_template": 3}""");
        Assert.Contains("chat_template must be a string", Assert.Throws<InvalidDataException>(() => ChatTemplate.FromTokenizerConfig(wrongType)).Message);

        string badToken = Write("badtoken.json", """{"bos_token": 5, "chat_template": "x"}""");
        Assert.Contains("bos_token", Assert.Throws<InvalidDataException>(() => ChatTemplate.FromTokenizerConfig(badToken)).Message);

        string badSyntax = Write("badsyntax.json", "{\"chat_template\": \"ok\\n{% if x %}never closed\"}");
        var syntax = Assert.Throws<TemplateException>(() => ChatTemplate.FromTokenizerConfig(badSyntax));
        Assert.Contains("badsyntax.json chat_template line 2", syntax.Message);
    }

    [Fact]
    public void JsonNumbersKeepPythonsIntAndFloatDistinction()
    {
        var t = ChatTemplate.Parse("{{ messages|tojson }}");
        var parsed = (JsonArray)JsonNode.Parse("""[{"a": 2, "b": 2.0, "c": 1e3, "d": -0.5}]""")!;
        Assert.Equal("""[{"a": 2, "b": 2.0, "c": 1000.0, "d": -0.5}]""", t.Render(parsed));
        var built = new JsonArray(new JsonObject { ["a"] = 2, ["b"] = 2.0, ["c"] = 3L, ["d"] = 0.25f });
        Assert.Equal("""[{"a": 2, "b": 2.0, "c": 3, "d": 0.25}]""", t.Render(built));
    }

    [Fact]
    public void ToolsAndDocumentsAreNoneWhenNotGivenAsInTransformers()
    {
        var t = ChatTemplate.Parse("{{ tools is defined }} {{ tools is none }} {{ documents is none }} {{ add_generation_prompt }}");
        Assert.Equal("True True True False", t.Render(OneUser));
        Assert.Equal("True False True True", t.Render(OneUser, new ChatTemplateOptions { Tools = new JsonArray(), AddGenerationPrompt = true }));
    }
}
