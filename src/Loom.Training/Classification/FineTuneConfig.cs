// The whole typed configuration of `loom finetune`, bound from YAML (+ --set overrides) by the same
// ConfigBinding as `loom train`:
//   task: classification | regression | multi_label  (sequence classifiers)
//         sft | dpo | distill                       (generative: instruction tuning, preference alignment, distillation)
//         seq2seq                                   (text to text: an encoder-decoder model (T5) on source/target JSONL)
//   init_from: a Hugging Face directory (GPT-2, Llama or BERT, base or already a classifier), or
//   model: a fresh config block (model_type gpt2/llama/bert, HF field names) + tokenizer: a path
//   data: {train, validation | validation_fraction, text_field, pair_field, label_field}
//   labels: [names in id order] (or inferred from the training data, sorted)
//   train: FineTuneOptions (epochs, batch_size, learning_rate, max_length, truncation, ...)
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Loom.Core.Validation;
using Loom.Models.Classification;
using Loom.Training.Loop;

namespace Loom.Training.Classification;

/// <summary>Everything `loom finetune` needs.</summary>
public sealed record FineTuneConfig
{
    /// <summary>Run directory (metrics, report, checkpoints, model/).</summary>
    public string Output { get; init; } = "runs/finetune";
    /// <summary>"classification", "regression" or "multi_label".</summary>
    public string Task { get; init; } = "classification";
    /// <summary>A Hugging Face model directory to start from.</summary>
    public string? InitFrom { get; init; }
    /// <summary>A fresh model's config block (when there is no init_from); vocab_size 0 or absent: the tokenizer's.</summary>
    public JsonObject? Model { get; init; }
    /// <summary>Tokenizer path or name; default: init_from's directory.</summary>
    public string? Tokenizer { get; init; }
    public FineTuneData Data { get; init; } = new();
    /// <summary>Class names in id order; null: inferred from the training data.</summary>
    public List<string>? Labels { get; init; }
    public FineTuneOptions Train { get; init; } = new();
    /// <summary>LoRA (PEFT's LoraConfig names) for sft and dpo: train an adapter over init_from's frozen weights.</summary>
    public TrainLoraConfig? Lora { get; init; }
    /// <summary>task: sft (and dpo's prompt rendering): the chat template.</summary>
    public Instructions.SftSettings Sft { get; init; } = new();
    /// <summary>task: dpo: β.</summary>
    public Preferences.DpoSettings Dpo { get; init; } = new();
    /// <summary>task: distill: teacher, α, temperature.</summary>
    public Distillation.DistillSettings? Distill { get; init; }
    /// <summary>task: seq2seq: fields, prefix, lengths and generation of text-to-text fine-tuning.</summary>
    [JsonPropertyName("seq2seq")]
    public Seq2Seq.Seq2SeqSettings Seq2Seq { get; init; } = new();

    /// <summary>True for the tasks that train a causal language model (sft, dpo, distill) rather than a classifier.</summary>
    [JsonIgnore]
    public bool IsGenerative => Task is "sft" or "dpo" or "distill";

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The problem type <see cref="Task"/> names.</summary>
    public ProblemType ProblemType => Task switch
    {
        "regression" => ProblemType.Regression,
        "multi_label" => ProblemType.MultiLabel,
        _ => ProblemType.SingleLabel,
    };

    /// <summary>The tokenizer to load: tokenizer:, else init_from.</summary>
    public string TokenizerPath => Tokenizer ?? InitFrom!;

    /// <summary>Binds and validates; errors name the --set argument or the file and the snake_case key.</summary>
    public static FineTuneConfig FromJson(JsonNode? root, IEnumerable<string> overrides, string source)
    {
        var config = ConfigBinding.Bind<FineTuneConfig>(root, overrides, source, Json,
            "a fine-tuning configuration is a mapping of settings (task:, init_from: or model: + tokenizer:, data:, labels:, train:, output:)",
            "output, task, init_from, model, tokenizer, data.train, data.validation, data.validation_fraction, data.text_field, labels, train.epochs, train.learning_rate, train.max_length, ...; see docs/FINETUNING.md");
        config.Validate();
        return config;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting as the YAML writes it.</summary>
    public void Validate()
    {
        if (Train is null) throw new ArgumentException("train is empty (null); give its settings as a mapping, or remove the key to use the defaults.");
        if (Data is null) throw new ArgumentException("data is empty (null); give data.train: a JSONL or CSV file.");
        if (string.IsNullOrWhiteSpace(Output)) throw Setting.Error("output", Output, "a directory path");
        Setting.OneOf("task", Task, "classification", "regression", "multi_label", "sft", "dpo", "distill", "seq2seq");
        if (InitFrom is null && Model is null)
            throw new ArgumentException("Neither init_from nor model is set; give init_from: a Hugging Face model directory, or model: a config block (model_type: bert, gpt2 or llama) with tokenizer:.");
        if (InitFrom is not null && Model is not null)
            throw new ArgumentException("Both init_from and model are set; init_from loads a model with its own config, so remove model: (or init_from:).");
        if (InitFrom is null && string.IsNullOrWhiteSpace(Tokenizer))
            throw Setting.Error("tokenizer", Tokenizer, "a tokenizer path or name when the model is fresh (model:)");
        if (string.IsNullOrWhiteSpace(Data.Train)) throw Setting.Error("data.train", Data.Train, "a JSONL or CSV file of labelled examples");
        if (Data.Validation is null) Setting.Between("data.validation_fraction", Data.ValidationFraction, 0, 1);
        if (Task == "seq2seq")
        {
            if (Seq2Seq is null) throw new ArgumentException("seq2seq is empty (null); give its settings as a mapping, or remove the key to use the defaults.");
            Seq2Seq.Validate("seq2seq.");
            if (Lora is not null) throw new ArgumentException("lora: is set but task is seq2seq; text-to-text fine-tuning trains the model in full, remove lora:.");
            if (Labels is not null) throw new ArgumentException("labels: is set but task is seq2seq; labels are for classification, remove them.");
            Train.Validate("train.");
            return;
        }
        if (Lora is not null && !IsGenerative)
            throw new ArgumentException($"lora: is set but task is {Task}; LoRA fine-tuning is for task: sft or dpo (a classifier trains in full).");
        if (Lora is not null && InitFrom is null)
            throw new ArgumentException("lora: adapts a pre-trained model; give init_from: its directory (an adapter over fresh weights learns nothing useful).");
        if (IsGenerative)
        {
            if (Sft is null || Dpo is null) throw new ArgumentException("sft: or dpo: is empty (null); give its settings as a mapping, or remove the key.");
            if (Task == "dpo")
            {
                Dpo.Validate();
                if (InitFrom is null) throw new ArgumentException("task: dpo aligns a trained model against itself as the reference; give init_from: its directory (usually an SFT model).");
            }
            if (Task == "distill")
            {
                if (Distill is null) throw new ArgumentException("task: distill needs a distill: section with teacher: the teacher's model directory (and alpha:, temperature:).");
                Distill.Validate();
                if (Lora is not null) throw new ArgumentException("task: distill trains the student in full; remove lora:.");
            }
            else if (Distill is not null) throw new ArgumentException($"distill: is set but task is {Task}; use task: distill or remove distill:.");
            if (Labels is not null) throw new ArgumentException($"labels: is set but task is {Task}; labels are for classification, remove them.");
            if (Sft.Packing && Task != "sft")
                throw new ArgumentException($"sft.packing is true but task is {Task}; packing several conversations per row is for task: sft, remove sft.packing.");
            Train.Validate("train.");
            return;
        }
        new ClassificationDataOptions { TextField = Data.TextField, PairField = Data.PairField, LabelField = Data.LabelField }.Validate("data.");
        if (Labels is not null && Labels.Count == 0) throw Setting.Error("labels", "[]", "the class names in id order, or absent to infer them");
        Train.Validate("train.");
    }

    /// <summary>The data options for the reader.</summary>
    public ClassificationDataOptions DataOptions => new()
    {
        TextField = Data.TextField, PairField = Data.PairField, LabelField = Data.LabelField, GroupField = Data.GroupField, ProblemType = ProblemType,
    };
}
