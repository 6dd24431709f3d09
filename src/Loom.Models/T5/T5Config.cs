// T5's configuration with Hugging Face's config.json field names (transformers' T5Config): T5 v1.0
// (Raffel et al. 2020: ReLU feed-forward, head tied to the embedding) and v1.1 / FLAN-T5 (gated-GELU
// feed-forward, untied lm_head). Defaults are t5-small's.
using System.Text.Json;
using System.Text.Json.Serialization;
using Loom.Core.IO;
using Loom.Core.Validation;

namespace Loom.Models.T5;

/// <summary>T5 hyper-parameters (T5Config); defaults are t5-small.</summary>
public sealed record T5Config
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "t5";
    [JsonPropertyName("architectures")] public IReadOnlyList<string>? Architectures { get; init; } = ["T5ForConditionalGeneration"];
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32128;
    [JsonPropertyName("d_model")] public int DModel { get; init; } = 512;
    /// <summary>Size of one attention head; n_heads·d_kv need not equal d_model (t5-v1_1-large: 16·64 ≠ 1024).</summary>
    [JsonPropertyName("d_kv")] public int DKv { get; init; } = 64;
    [JsonPropertyName("d_ff")] public int DFf { get; init; } = 2048;
    [JsonPropertyName("num_layers")] public int NumLayers { get; init; } = 6;
    /// <summary>Decoder depth; absent (null) means num_layers, as T5Config does.</summary>
    [JsonPropertyName("num_decoder_layers")] public int? NumDecoderLayersSetting { get; init; }
    [JsonPropertyName("num_heads")] public int NumHeads { get; init; } = 8;
    [JsonPropertyName("relative_attention_num_buckets")] public int RelativeAttentionNumBuckets { get; init; } = 32;
    [JsonPropertyName("relative_attention_max_distance")] public int RelativeAttentionMaxDistance { get; init; } = 128;
    /// <summary>Read and saved; Loom's T5 computes without dropout (HF's eval mode) — see docs/MODELS.md.</summary>
    [JsonPropertyName("dropout_rate")] public float DropoutRate { get; init; } = 0.1f;
    [JsonPropertyName("layer_norm_epsilon")] public float LayerNormEpsilon { get; init; } = 1e-6f;
    [JsonPropertyName("initializer_factor")] public float InitializerFactor { get; init; } = 1f;
    /// <summary>"relu" (v1.0) or "gated-gelu" (v1.1, FLAN-T5: gelu_new(wi_0·x) ⊙ wi_1·x); "gated-gelu_new" is the same.</summary>
    [JsonPropertyName("feed_forward_proj")] public string FeedForwardProj { get; init; } = "relu";
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; } = true;
    [JsonPropertyName("is_encoder_decoder")] public bool IsEncoderDecoder { get; init; } = true;
    [JsonPropertyName("decoder_start_token_id")] public int DecoderStartTokenId { get; init; } = 0;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 0;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 1;

    /// <summary>Decoder depth (num_decoder_layers, else num_layers).</summary>
    [JsonIgnore] public int NumDecoderLayers => NumDecoderLayersSetting ?? NumLayers;
    /// <summary>n_heads·d_kv: the width of q, k, v and the input of o.</summary>
    [JsonIgnore] public int InnerDim => NumHeads * DKv;
    /// <summary>True for the gated feed-forward (wi_0, wi_1, wo).</summary>
    [JsonIgnore] public bool IsGated => FeedForwardProj.StartsWith("gated-", StringComparison.Ordinal);

    /// <summary>Throws naming the field (<paramref name="prefix"/> + its config.json name) and its value.</summary>
    public void Validate(string prefix = "")
    {
        Setting.AtLeast(prefix + "vocab_size", VocabSize, 2);
        Setting.AtLeast(prefix + "d_model", DModel, 1);
        Setting.AtLeast(prefix + "d_kv", DKv, 1);
        Setting.AtLeast(prefix + "d_ff", DFf, 1);
        Setting.AtLeast(prefix + "num_layers", NumLayers, 1);
        Setting.AtLeast(prefix + "num_decoder_layers", NumDecoderLayers, 1);
        Setting.AtLeast(prefix + "num_heads", NumHeads, 1);
        Setting.AtLeast(prefix + "relative_attention_num_buckets", RelativeAttentionNumBuckets, 2);
        Setting.AtLeast(prefix + "relative_attention_max_distance", RelativeAttentionMaxDistance, 1);
        if (!(DropoutRate >= 0 && DropoutRate < 1)) throw Setting.Error(prefix + "dropout_rate", DropoutRate, "at least 0 and less than 1");
        Setting.Positive(prefix + "layer_norm_epsilon", LayerNormEpsilon);
        Setting.OneOf(prefix + "feed_forward_proj", FeedForwardProj, "relu", "gated-gelu", "gated-gelu_new");
        foreach (var (name, id) in new[] { ("decoder_start_token_id", DecoderStartTokenId), ("pad_token_id", PadTokenId), ("eos_token_id", EosTokenId) })
            if (id < 0 || id >= VocabSize) throw Setting.Error(prefix + name, id, $"a token id below vocab_size ({VocabSize})");
        if (!IsEncoderDecoder) throw new NotSupportedException($"{prefix}is_encoder_decoder is false: that is T5EncoderModel's config; Loom's T5 is T5ForConditionalGeneration.");
    }

    private static readonly JsonSerializerOptions ReadJson = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString,
    };
    private static readonly JsonSerializerOptions WriteJson = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Reads a config.json text (not validated).</summary>
    public static T5Config Parse(string json) => JsonSerializer.Deserialize<T5Config>(json, ReadJson) ?? new T5Config();

    /// <summary>Reads and validates a config.json; errors name the file.</summary>
    public static T5Config Load(string path)
    {
        T5Config c;
        try { c = Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid T5 config.json ({e.Message})."); }
        if (c.ModelType != "t5") throw new InvalidDataException($"{path}: model_type is \"{c.ModelType}\", not \"t5\".");
        try { c.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
        return c;
    }

    /// <summary>Writes config.json (crash-safe).</summary>
    public void Save(string path) => DurableFile.WriteAllText(path, JsonSerializer.Serialize(this, WriteJson));
}
