// GPT-2's configuration with Hugging Face's config.json field names (GPT2Config).
using Loom.Core.IO;
using Loom.Core.Validation;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loom.Models.Gpt2;

/// <summary>GPT-2 hyper-parameters; defaults are GPT-2 124M.</summary>
public sealed record Gpt2Config
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "gpt2";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 50257;
    [JsonPropertyName("n_positions")] public int MaxPositions { get; init; } = 1024;
    [JsonPropertyName("n_embd")] public int Embedding { get; init; } = 768;
    [JsonPropertyName("n_layer")] public int Layers { get; init; } = 12;
    [JsonPropertyName("n_head")] public int Heads { get; init; } = 12;
    [JsonPropertyName("layer_norm_epsilon")] public float LayerNormEpsilon { get; init; } = 1e-5f;
    [JsonPropertyName("activation_function")] public string Activation { get; init; } = "gelu_new";
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field (<paramref name="prefix"/> + its config.json name) and its value.</summary>
    /// <param name="prefix">How the user reaches these fields: "model." in a training YAML, "" for a config.json.</param>
    public void Validate(string prefix = "")
    {
        Setting.AtLeast(prefix + "vocab_size", VocabSize, 1);
        Setting.AtLeast(prefix + "n_positions", MaxPositions, 1);
        Setting.AtLeast(prefix + "n_embd", Embedding, 1);
        Setting.AtLeast(prefix + "n_layer", Layers, 1);
        Setting.AtLeast(prefix + "n_head", Heads, 1);
        if (Embedding % Heads != 0)
            throw Setting.Error(prefix + "n_embd", Embedding, $"divisible by {prefix}n_head ({Heads})");
        Setting.Positive(prefix + "layer_norm_epsilon", LayerNormEpsilon);
        if (Activation is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw new NotSupportedException($"{prefix}activation_function \"{Activation}\" is not supported; Loom's GPT-2 uses the tanh GELU (gelu_new).");
        if (!TieWordEmbeddings) throw new NotSupportedException($"{prefix}tie_word_embeddings is false: GPT-2 with untied embeddings is not supported.");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Reads a Hugging Face config.json.</summary>
    public static Gpt2Config Load(string path)
    {
        var c = JsonSerializer.Deserialize<Gpt2Config>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty config.");
        if (c.ModelType != "gpt2") throw new InvalidDataException($"{path}: model_type is \"{c.ModelType}\", not \"gpt2\".");
        c.Validate();
        return c;
    }

    /// <summary>Writes config.json.</summary>
    public void Save(string path) => DurableFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Parses the JSON text of a config.</summary>
    public static Gpt2Config Parse(string json) => JsonSerializer.Deserialize<Gpt2Config>(json)!;
}
