// The whole typed configuration of `loom train`: data, tokenizer, model, training options and the
// output directory. Files are YAML that mirror these records (snake_case keys; the model block is a
// Hugging Face config.json, its model_type choosing the family), converted to JSON and bound with
// System.Text.Json, so a `--set train.max_steps=100` override and the saved run config share one
// representation.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Loom.Training.Loop;

/// <summary>Everything `loom train` needs.</summary>
public sealed record TrainConfig
{
    /// <summary>Run directory (metrics, report, checkpoints, final model).</summary>
    public string Output { get; init; } = "runs/train";
    /// <summary>Text or JSONL files (tokenized on the fly), or shard files/directories from `loom tokenize`.</summary>
    public List<string> Data { get; init; } = [];
    /// <summary>Field of JSONL records holding the text.</summary>
    public string Field { get; init; } = "text";
    /// <summary>The last fraction of the tokens is held out for validation.</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Tokenizer name or path (see `loom tokenizer`).</summary>
    public string Tokenizer { get; init; } = "gpt2";
    /// <summary>
    /// Model architecture as a Hugging Face config.json block: model_type "gpt2" (default; n_embd, n_layer, ...)
    /// or "llama" (hidden_size, num_hidden_layers, ...). vocab_size defaults to the tokenizer's when 0 or absent.
    /// </summary>
    public JsonObject Model { get; init; } = new()
    {
        ["model_type"] = "gpt2", ["vocab_size"] = 0, ["n_positions"] = 128, ["n_embd"] = 192, ["n_layer"] = 4, ["n_head"] = 6,
    };
    /// <summary>
    /// "windows": random windows of train.sequence_length over the concatenated token stream (nanoGPT).
    /// "documents": each JSONL record, blank-line block of a text file, or separator-delimited shard span
    /// is one document; batches are length-bucketed and padded only to their longest document.
    /// </summary>
    public string Batching { get; init; } = "windows";
    /// <summary>With documents batching: lengths are rounded up to a multiple of this to form buckets.</summary>
    public int BucketWidth { get; init; } = 32;
    /// <summary>Optional model directory to start from (fine-tuning).</summary>
    public string? InitFrom { get; init; }
    /// <summary>Initialisation seed when not starting from a model.</summary>
    public int Seed { get; init; } = 1337;
    /// <summary>Optimisation settings.</summary>
    public TrainOptions Train { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Binds a JSON tree (from YAML) after applying <paramref name="overrides"/> ("a.b=value").</summary>
    public static TrainConfig FromJson(JsonNode? root, IEnumerable<string> overrides, string source)
    {
        root ??= new JsonObject();
        foreach (var o in overrides) Apply(root.AsObject(), o);
        try
        {
            var config = root.Deserialize<TrainConfig>(Json) ?? new TrainConfig();
            if (config.Batching is not ("windows" or "documents"))
                throw new FormatException($"{source}: batching is \"{config.Batching}\"; use \"windows\" or \"documents\".");
            return config;
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: {e.Message.Replace("$.", "", StringComparison.Ordinal)} (keys are snake_case: output, data, tokenizer, model.n_layer, train.batch_size, ...)", e);
        }
    }

    private static void Apply(JsonObject root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new FormatException($"--set expects key=value (e.g. train.max_steps=100); got \"{assignment}\".");
        string[] path = assignment[..eq].Split('.');
        string raw = assignment[(eq + 1)..];
        JsonObject node = root;
        for (int i = 0; i < path.Length - 1; i++)
        {
            if (node[path[i]] is not JsonObject child) node[path[i]] = child = new JsonObject();
            node = child;
        }
        // A value that parses as JSON (number, bool, list) is taken as such; anything else is a string.
        JsonNode? value;
        try { value = JsonNode.Parse(raw); }
        catch (JsonException) { value = JsonValue.Create(raw); }
        node[path[^1]] = value;
    }
}
