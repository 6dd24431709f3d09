// One row of the model-family registry: what config.json's model_type names, the config record
// type, how to build the family's models, and how to describe a config. Shared code dispatches on
// these rows, never on a family's type (`is Gpt2Model`), so a new family is one registration.
using System.Text.Json.Nodes;
using Loom.Core.Threading;

namespace Loom.Models.Families;

/// <summary>A registered model family.</summary>
public sealed record ModelFamily
{
    /// <summary>config.json's model_type ("gpt2", "llama", "bert").</summary>
    public required string ModelType { get; init; }

    /// <summary>The config record type (<c>Gpt2Config</c>, ...).</summary>
    public required Type ConfigurationType { get; init; }

    /// <summary>Reads the family's config record from a config.json tree (validated by <see cref="Validate"/> and by the model's constructor).</summary>
    public required Func<JsonNode, object> ReadConfiguration { get; init; }

    /// <summary>
    /// Checks a config record, naming each field with the given prefix ("model." gives model.n_layer)
    /// and its value; null when the family checks only in its constructor.
    /// </summary>
    public Action<object, string>? Validate { get; init; }

    /// <summary>
    /// Bytes a model of a config would take, without allocating: (config, batch, time,
    /// activation checkpointing); null when the family cannot plan (memory is then not checked ahead).
    /// </summary>
    public Func<object, int, int, bool, ModelMemory>? PlanMemory { get; init; }

    /// <summary>
    /// The parameter tensors a config implies (HF name, shape, weight decay), in block order, without
    /// allocating; null when the family cannot list them. Memory plans use it to count only the
    /// tensors that train (gradients, optimizer moments, masters).
    /// </summary>
    public Func<object, IReadOnlyList<(string Name, long[] Shape, bool WeightDecay)>>? ParameterTensors { get; init; }

    /// <summary>The config's vocab_size, named in memory errors; null when the family has none.</summary>
    public Func<object, long>? VocabularySize { get; init; }

    /// <summary>Builds a causal language model from a config record; null for encoders.</summary>
    public Func<object, ModelOptions, WorkerPool?, ICausalLanguageModel>? CreateCausalLanguageModel { get; init; }

    /// <summary>Builds the family's masked language model (BERT's BertForMaskedLM) for pre-training; null for causal families.</summary>
    public Func<object, ModelOptions, WorkerPool?, ILanguageModel>? CreateMaskedLanguageModel { get; init; }

    /// <summary>Builds the family's body (hidden states forward and backward) from a config record.</summary>
    public Func<object, ModelOptions, WorkerPool?, IHiddenStateModel>? CreateHiddenStateModel { get; init; }

    /// <summary>Builds the family's encoder-decoder language model (T5ForConditionalGeneration); null for other families.</summary>
    public Func<object, ModelOptions, WorkerPool?, ISeq2SeqModel>? CreateSeq2SeqModel { get; init; }

    /// <summary>The family's *ForSequenceClassification (architecture, pooling, head names); null when it has none.</summary>
    public Classification.SequenceClassifierLayout? SequenceClassifier { get; init; }

    /// <summary>The family's GGUF conventions (llama.cpp's architecture name, metadata keys, tensor names); null when it has none.</summary>
    public Formats.Gguf.GgufArchitecture? Gguf { get; init; }

    /// <summary>Why the family has no causal LM (shown when one is asked for).</summary>
    public string? NotCausalReason { get; init; }

    /// <summary>A short description of a config for messages: "gpt2 4 layers × 192, vocab 50257".</summary>
    public required Func<object, string> Describe { get; init; }
}
