// The whole typed configuration of `loom train`: data, tokenizer, model, training options and the
// output directory. Files are YAML that mirror these records (snake_case keys; the model block is a
// Hugging Face config.json, its model_type choosing the family), converted to JSON and bound with
// System.Text.Json, so a `--set train.max_steps=100` override and the saved run config share one
// representation.
using Loom.Core.Validation;
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
    /// <summary>Masking of masked-LM pre-training (model_type bert); unused by causal models.</summary>
    public Masking.MaskedLanguageModelingOptions Mlm { get; init; } = new();
    /// <summary>Span corruption of T5 pre-training (model_type t5); unused by other families.</summary>
    public Seq2Seq.SpanCorruptionOptions SpanCorruption { get; init; } = new();
    /// <summary>Optional LoRA adapter (PEFT's fields): train only the adapter on init_from's model and write it instead of the model.</summary>
    public TrainLoraConfig? Lora { get; init; }
    /// <summary>Data-parallel settings, used when `loom train --distributed` runs under mpirun or srun.</summary>
    public TrainDistributedConfig Distributed { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>
    /// Binds a JSON tree (from YAML) after applying <paramref name="overrides"/> ("a.b=value"), then validates it.
    /// A value that does not bind is blamed on the --set argument that wrote it, else on <paramref name="source"/>,
    /// and named by its snake_case path (train.batch_size), never by a JSON line number.
    /// </summary>
    public static TrainConfig FromJson(JsonNode? root, IEnumerable<string> overrides, string source)
    {
        var config = ConfigBinding.Bind<TrainConfig>(root, overrides, source, Json,
            "a training configuration is a mapping of settings (output:, data:, tokenizer:, model:, train:)",
            "output, data, field, validation_fraction, tokenizer, model.n_layer, batching, seed, train.batch_size, train.max_steps, ...; see docs/TRAINING.md");
        config.Validate();
        return config;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting as the YAML writes it (validation_fraction, train.max_steps, ...).</summary>
    public void Validate()
    {
        // A key written with no value (`train: ~`, `--set model=null`) binds null: say so instead of failing later.
        if (Train is null) throw new ArgumentException("train is empty (null); give its settings as a mapping, or remove the key to use the defaults.");
        if (Model is null) throw new ArgumentException("model is empty (null); give a Hugging Face config block, or remove the key to use the default model.");
        if (Data is null) throw new ArgumentException("data is empty (null); give a list of files, e.g. data: [input.txt].");
        if (Output is null) throw new ArgumentException("output is empty (null; in YAML and --set, ~ means null, not a home directory); give a directory path, e.g. output: runs/train.");
        if (string.IsNullOrWhiteSpace(Output)) throw Setting.Error("output", Output, "a directory path");
        if (string.IsNullOrWhiteSpace(Field)) throw Setting.Error("field", Field, "the name of the JSONL field holding the text");
        if (string.IsNullOrWhiteSpace(Tokenizer)) throw Setting.Error("tokenizer", Tokenizer, "a tokenizer name or path");
        if (Data.Any(string.IsNullOrWhiteSpace)) throw Setting.Error("data", "", "a list of file or directory paths");
        Setting.Between("validation_fraction", ValidationFraction, 0, 1);
        if (Batching is not ("windows" or "documents")) throw Setting.Error("batching", Batching, "\"windows\" or \"documents\"");
        Setting.AtLeast("bucket_width", BucketWidth, 1);
        Train.Validate("train.");
        if (Mlm is null) throw new ArgumentException("mlm is empty (null); give its settings as a mapping (probability, whole_word_mask, ...), or remove the key to use the defaults.");
        Mlm.Validate("mlm.");
        if (Distributed is null) throw new ArgumentException("distributed is empty (null); give its settings as a mapping (strategy: ddp, cpu_offload: false), or remove the key to use the defaults.");
        Distributed.Validate();
        if (SpanCorruption is null) throw new ArgumentException("span_corruption is empty (null); give its settings as a mapping (noise_density, mean_noise_span_length), or remove the key to use the defaults.");
        SpanCorruption.Validate("span_corruption.");
        if (Lora != null)
        {
            if (InitFrom is null) throw new ArgumentException("lora needs init_from: a LoRA adapter fine-tunes a trained model; set init_from to its directory.");
            Lora.ToOptions(InitFrom, Seed);
        }
    }
}
