// Llama's configuration with Hugging Face's config.json field names (LlamaConfig).
using Loom.Core.IO;
using Loom.Core.Validation;
using System.Text.Json;
using System.Text.Json.Serialization;
using Loom.Core.Kernels;

namespace Loom.Models.Llama;

/// <summary>rope_scaling as in config.json ("type" or "rope_type", and "factor").</summary>
public sealed record LlamaRopeScaling
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }
    [JsonPropertyName("factor")] public float Factor { get; init; } = 1f;

    public RopeScaling ToKernel() => new(Type ?? RopeType ?? "none", Factor);
}

/// <summary>Llama hyper-parameters.</summary>
public sealed record LlamaConfig
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "llama";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32000;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 11008;
    [JsonPropertyName("num_hidden_layers")] public int Layers { get; init; } = 32;
    [JsonPropertyName("num_attention_heads")] public int Heads { get; init; } = 32;
    [JsonPropertyName("num_key_value_heads")] public int? KeyValueHeads { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositions { get; init; } = 2048;
    [JsonPropertyName("rms_norm_eps")] public float RmsNormEpsilon { get; init; } = 1e-6f;
    [JsonPropertyName("rope_theta")] public float RopeTheta { get; init; } = 10000f;
    [JsonPropertyName("rope_scaling")] public LlamaRopeScaling? RopeScaling { get; init; }
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    /// <summary>The MLP's activation; Loom's Llama computes SiLU (HF's "silu", alias "swish") only.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    /// <summary>HF's optional head_dim; Loom's Llama needs it to equal hidden_size / num_attention_heads (absent: that value).</summary>
    [JsonPropertyName("head_dim")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ConfiguredHeadDim { get; init; }

    [JsonIgnore] public int KvHeads => KeyValueHeads ?? Heads;
    [JsonIgnore] public int HeadDim => HiddenSize / Heads;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field (<paramref name="prefix"/> + its config.json name) and its value.</summary>
    /// <param name="prefix">How the user reaches these fields: "model." in a training YAML, "" for a config.json.</param>
    public void Validate(string prefix = "")
    {
        Setting.AtLeast(prefix + "vocab_size", VocabSize, 1);
        Setting.AtLeast(prefix + "hidden_size", HiddenSize, 1);
        Setting.AtLeast(prefix + "intermediate_size", IntermediateSize, 1);
        Setting.AtLeast(prefix + "num_hidden_layers", Layers, 1);
        Setting.AtLeast(prefix + "num_attention_heads", Heads, 1);
        Setting.AtLeast(prefix + "num_key_value_heads", KvHeads, 1);
        Setting.AtLeast(prefix + "max_position_embeddings", MaxPositions, 1);
        if (HiddenSize % Heads != 0)
            throw Setting.Error(prefix + "hidden_size", HiddenSize, $"divisible by {prefix}num_attention_heads ({Heads})");
        if (Heads % KvHeads != 0)
            throw Setting.Error(prefix + "num_key_value_heads", KvHeads, $"a divisor of {prefix}num_attention_heads ({Heads})");
        if (HeadDim % 2 != 0)
            throw Setting.Error(prefix + "hidden_size", HiddenSize, $"such that hidden_size / num_attention_heads is even for rotary embeddings (it is {HeadDim})");
        Setting.Positive(prefix + "rms_norm_eps", RmsNormEpsilon);
        Setting.Positive(prefix + "rope_theta", RopeTheta);
        if (RopeScaling is { } r) Setting.Positive(prefix + "rope_scaling.factor", r.Factor);
        if (TieWordEmbeddings) throw new NotSupportedException($"{prefix}tie_word_embeddings is true: Llama with tied embeddings is not supported yet.");
        // Fields Hugging Face reads but this model would otherwise ignore: refused rather than silently computed otherwise.
        if (HiddenAct is not ("silu" or "swish"))
            throw new NotSupportedException($"{prefix}hidden_act is \"{HiddenAct}\": Loom's Llama computes the SiLU MLP only (\"silu\", as every Llama checkpoint); remove the field or set it to \"silu\".");
        if (ConfiguredHeadDim is { } hd && hd != HeadDim)
            throw new NotSupportedException($"{prefix}head_dim is {hd}, but Loom's Llama needs hidden_size / num_attention_heads ({HiddenSize} / {Heads} = {HeadDim}); remove head_dim or set it to {HeadDim}.");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static LlamaConfig Parse(string json) => JsonSerializer.Deserialize<LlamaConfig>(json)!;

    public static LlamaConfig Load(string path)
    {
        var c = JsonSerializer.Deserialize<LlamaConfig>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty config.");
        if (c.ModelType != "llama") throw new InvalidDataException($"{path}: model_type is \"{c.ModelType}\", not \"llama\".");
        c.Validate();
        return c;
    }

    public void Save(string path) => DurableFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}
