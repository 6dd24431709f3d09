// The whole typed configuration of `loom train`: data, tokenizer, model, training options and the
// output directory. Files are YAML that mirror these records (snake_case keys; the model block uses
// Hugging Face's GPT-2 config names), converted to JSON and bound with System.Text.Json, so a
// `--set train.max_steps=100` override and the saved run config share one representation.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Loom.Models.Gpt2;

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
    /// <summary>Model architecture (vocab_size defaults to the tokenizer's when 0).</summary>
    public Gpt2Config Model { get; init; } = new() { VocabSize = 0, MaxPositions = 128, Embedding = 192, Layers = 4, Heads = 6 };
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
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>Binds a JSON tree (from YAML) after applying <paramref name="overrides"/> ("a.b=value").</summary>
    public static TrainConfig FromJson(JsonNode? root, IEnumerable<string> overrides, string source)
    {
        root ??= new JsonObject();
        foreach (var o in overrides) Apply(root.AsObject(), o);
        try
        {
            return root.Deserialize<TrainConfig>(Json) ?? new TrainConfig();
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
