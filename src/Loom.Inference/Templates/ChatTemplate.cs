// A Hugging Face chat template (the Jinja "chat_template" of tokenizer_config.json), parsed once and
// rendered per conversation with the same environment as transformers' apply_chat_template
// (chat_template_utils._compile_jinja_template: jinja2's ImmutableSandboxedEnvironment with trim_blocks and
// lstrip_blocks, loopcontrols, tojson with ensure_ascii=False, raise_exception, strftime_now) and the same
// variables (messages, tools, documents, add_generation_prompt, the tokenizer's special tokens, extra
// kwargs). Checked against Python's jinja2 on real models' templates in
// tests/Loom.Inference.Tests/Fixtures/chat_templates/ (make_fixtures.py).
// What it is not: a general Jinja engine. Template inheritance, includes, call blocks, recursive loops and
// autoescaping are not supported (no chat template uses them).
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;

namespace Loom.Inference.Templates;

/// <summary>A parsed chat template; thread-safe to render from many threads.</summary>
public sealed class ChatTemplate
{
    /// <summary>
    /// The template used for a model that ships none: ChatML, as transformers' former class-level
    /// default_chat_template (PreTrainedTokenizerBase, before 4.43) wrote it (its "\n" are newline characters
    /// inside the Jinja string literals, as in the Python source):
    /// "&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n" per message, then "&lt;|im_start|&gt;assistant\n" when a
    /// generation prompt is asked for.
    /// </summary>
    public const string ChatMLSource =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    /// <summary>The special-token variables HF passes to every template (its special_tokens_map keys).</summary>
    private static readonly string[] SpecialTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly List<JinjaNode> _body;
    private readonly Dictionary<string, object?> _specialTokens;

    private ChatTemplate(string text, string origin, List<JinjaNode> body, Dictionary<string, object?> specialTokens)
    {
        Text = text;
        Origin = origin;
        _body = body;
        _specialTokens = specialTokens;
    }

    /// <summary>The template's Jinja text.</summary>
    public string Text { get; }

    /// <summary>Where it came from, as errors name it (a file path and field, or "ChatML (default)").</summary>
    public string Origin { get; }

    /// <summary>The special tokens given to the template (bos_token, eos_token, ...), as strings; additional_special_tokens as a list.</summary>
    public IReadOnlyDictionary<string, object?> SpecialTokens => _specialTokens;

    /// <summary>The default ChatML template with no special tokens.</summary>
    public static ChatTemplate ChatML { get; } = Parse(ChatMLSource, "ChatML (default chat template)");

    /// <summary>Parses <paramref name="template"/>; a syntax error is a <see cref="TemplateException"/> naming <paramref name="origin"/> and the line.</summary>
    public static ChatTemplate Parse(string template, string origin = "chat template", IReadOnlyDictionary<string, string>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        var tokens = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (specialTokens is not null) foreach (var p in specialTokens) tokens[p.Key] = p.Value;
        return new ChatTemplate(template, origin, JinjaParser.Parse(template, origin), tokens);
    }

    /// <summary>Reads a template from a Jinja file (the --chat-template FILE form; HF's chat_template.jinja).</summary>
    public static ChatTemplate FromFile(string path, IReadOnlyDictionary<string, string>? specialTokens = null, string option = "--chat-template")
    {
        string full = InputFiles.RequireFile(path, option);
        return Parse(File.ReadAllText(full), path, specialTokens);
    }

    /// <summary>
    /// Reads the chat template and special tokens of a tokenizer_config.json. The "chat_template" field is a
    /// string, or a list of {"name", "template"} (chosen as transformers' get_chat_template does:
    /// <paramref name="name"/> when given, else "tool_use" when <paramref name="forTools"/> and present, else
    /// "default"). Returns null when the file has no chat_template (a caller then uses <see cref="ChatML"/>).
    /// </summary>
    public static ChatTemplate? FromTokenizerConfig(string path, string? name = null, bool forTools = false)
    {
        string full = InputFiles.RequireFile(path, "tokenizer_config.json");
        JsonObject config;
        try
        {
            config = JsonNode.Parse(File.ReadAllText(full)) as JsonObject
                ?? throw new InvalidDataException($"{path} is not a JSON object; a tokenizer_config.json holds one.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON ({e.Message}); give Hugging Face's tokenizer_config.json.", e);
        }
        var specials = ReadSpecialTokens(config, path);
        var field = config["chat_template"];
        switch (field)
        {
            case null:
                if (name is not null) throw new KeyNotFoundException($"{path} has no chat_template, so it has no template named '{name}'.");
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                if (name is not null && name != "default") throw new KeyNotFoundException($"{path} has a single chat_template, not one named '{name}'.");
                return Create(v.GetValue<string>(), $"{path} chat_template", specials);
            case JsonArray list:
            {
                var named = new Dictionary<string, string>(StringComparer.Ordinal);
                for (int i = 0; i < list.Count; i++)
                {
                    if (list[i] is not JsonObject item || item["name"] is not JsonValue n || n.GetValueKind() != JsonValueKind.String
                        || item["template"] is not JsonValue t || t.GetValueKind() != JsonValueKind.String)
                        throw new InvalidDataException($"{path}: chat_template[{i}] must be an object with string fields \"name\" and \"template\".");
                    named[n.GetValue<string>()] = t.GetValue<string>();
                }
                string chosen = name ?? (forTools && named.ContainsKey("tool_use") ? "tool_use" : "default");
                if (!named.TryGetValue(chosen, out var text))
                {
                    throw new KeyNotFoundException(name is null
                        ? $"{path} has several chat templates ({string.Join(", ", named.Keys)}) and none named 'default'; choose one by name."
                        : $"{path} has no chat template named '{name}'; it has {string.Join(", ", named.Keys)}.");
                }
                return Create(text, $"{path} chat_template '{chosen}'", specials);
            }
            default:
                throw new InvalidDataException($"{path}: chat_template must be a string or a list of {{\"name\", \"template\"}} objects, not {field.GetValueKind()}.");
        }
    }

    /// <summary>
    /// The template for a model folder: <paramref name="chatTemplateFile"/> when given, else the
    /// tokenizer_config.json's chat_template, else a chat_template.jinja beside it (HF's newer layout), else
    /// <see cref="ChatML"/>. The special tokens come from tokenizer_config.json in every case.
    /// </summary>
    public static ChatTemplate ForModel(string modelDirectory, string? chatTemplateFile = null, bool forTools = false)
    {
        string configPath = Path.Combine(modelDirectory, "tokenizer_config.json");
        bool hasConfig = File.Exists(configPath);
        ChatTemplate? fromConfig = hasConfig ? FromTokenizerConfig(configPath, forTools: forTools) : null;
        var specials = fromConfig?._specialTokens ?? (hasConfig ? ReadSpecialTokensFile(configPath) : new Dictionary<string, object?>());
        if (chatTemplateFile is not null)
        {
            string full = InputFiles.RequireFile(chatTemplateFile, "--chat-template");
            return Create(File.ReadAllText(full), chatTemplateFile, specials);
        }
        if (fromConfig is not null) return fromConfig;
        string jinja = Path.Combine(modelDirectory, "chat_template.jinja");
        if (File.Exists(jinja)) return Create(File.ReadAllText(InputFiles.RequireFile(jinja, "chat_template.jinja")), jinja, specials);
        return new ChatTemplate(ChatMLSource, "ChatML (default chat template)", ChatML._body, specials);
    }

    /// <summary>Renders <paramref name="messages"/> (OpenAI/HF message objects) to the prompt text.</summary>
    public string Render(JsonArray messages, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new ChatTemplateOptions();
        var root = new JinjaScope(null);
        foreach (var p in _specialTokens) root.Set(p.Key, p.Value);
        root.Set("messages", JinjaJson.FromNode(messages));
        root.Set("tools", JinjaJson.FromNode(options.Tools));
        root.Set("documents", JinjaJson.FromNode(options.Documents));
        root.Set("add_generation_prompt", options.AddGenerationPrompt);
        if (options.Variables is not null) foreach (var p in options.Variables) root.Set(p.Key, JinjaJson.FromNode(p.Value));
        return new JinjaInterpreter(Origin, options.Clock, new JinjaBudget(options)).Render(_body, root);
    }

    /// <summary>
    /// Renders messages given as JSON text (an array of message objects). Text that is not valid JSON, or that
    /// nests deeper than System.Text.Json's default of 64 levels, is an <see cref="ArgumentException"/> naming
    /// the place (a JSONPath such as $[0].content) and the line.
    /// </summary>
    public string Render(string messagesJson, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messagesJson);
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(messagesJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"messages is not valid JSON at {FailurePath(messagesJson)} (line {(e.LineNumber ?? 0) + 1}): {e.Message} Give a JSON array of message objects, nested at most 64 levels.", nameof(messagesJson), e);
        }
        return Render(parsed as JsonArray ?? throw new ArgumentException("messages must be a JSON array of message objects.", nameof(messagesJson)), options);
    }

    // The JSONPath ($[0].content[0]...) where a reader stops on bad JSON. JsonException.Path is only "$" for
    // a depth error, so the text is read again with Utf8JsonReader (not recursive) tracking each level.
    private static string FailurePath(string json)
    {
        var levels = new List<(bool Array, int Index, string? Name)>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (levels.Count > 0) levels[^1] = (false, 0, reader.GetString());
                        continue;
                    case JsonTokenType.EndArray or JsonTokenType.EndObject:
                        if (levels.Count > 0) levels.RemoveAt(levels.Count - 1);
                        break;
                }
                if (levels.Count > 0 && levels[^1].Array && reader.TokenType is not (JsonTokenType.EndArray or JsonTokenType.EndObject))
                    levels[^1] = (true, levels[^1].Index + 1, null);
                if (reader.TokenType is JsonTokenType.StartArray) levels.Add((true, -1, null));
                else if (reader.TokenType is JsonTokenType.StartObject) levels.Add((false, 0, null));
            }
        }
        catch (JsonException)
        {
        }
        var path = new System.Text.StringBuilder("$");
        foreach (var (array, index, name) in levels)
        {
            if (array) { if (index >= 0) path.Append('[').Append(index).Append(']'); }
            else if (name is not null) path.Append('.').Append(name);
        }
        return path.Length <= 80 ? path.ToString() : path.ToString(0, 80) + "…";
    }

    private static ChatTemplate Create(string text, string origin, Dictionary<string, object?> specials) =>
        new(text, origin, JinjaParser.Parse(text, origin), specials);

    private static Dictionary<string, object?> ReadSpecialTokensFile(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o ? ReadSpecialTokens(o, path) : [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON ({e.Message}); give Hugging Face's tokenizer_config.json.", e);
        }
    }

    // HF passes tokenizer.special_tokens_map: each token set in the config, as its string (an AddedToken
    // object {"content": ...} gives its content); additional_special_tokens as a list of strings.
    private static Dictionary<string, object?> ReadSpecialTokens(JsonObject config, string path)
    {
        var tokens = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (string key in SpecialTokenKeys)
        {
            string? value = TokenText(config[key], $"{path}: {key}");
            if (value is not null) tokens[key] = value;
        }
        if (config["additional_special_tokens"] is JsonArray extra)
        {
            var list = new List<object?>();
            for (int i = 0; i < extra.Count; i++)
            {
                string? value = TokenText(extra[i], $"{path}: additional_special_tokens[{i}]");
                if (value is not null) list.Add(value);
            }
            if (list.Count > 0) tokens["additional_special_tokens"] = list;
        }
        return tokens;
    }

    private static string? TokenText(JsonNode? node, string field) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonObject o when o["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String => c.GetValue<string>(),
        _ => throw new InvalidDataException($"{field} must be a string or an object with a string \"content\"."),
    };
}
