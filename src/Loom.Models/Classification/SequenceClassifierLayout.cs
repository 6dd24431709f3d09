// A family's row for sequence classification in the registry (Families/ModelFamily): what Hugging
// Face's *ForSequenceClassification of that family looks like — its architecture name, how it
// pools, the head's tensor names, and how the body's tensors are named in a classifier checkpoint
// and in a base-model checkpoint. SequenceClassifier reads only this row, never the family's type.
using Loom.Core.Threading;

namespace Loom.Models.Classification;

/// <summary>What a family's *ForSequenceClassification is, as data.</summary>
public sealed record SequenceClassifierLayout
{
    /// <summary>config.json's architectures entry: "GPT2ForSequenceClassification", ...</summary>
    public required string Architecture { get; init; }

    /// <summary>Which hidden state the head reads.</summary>
    public required SequencePooling Pooling { get; init; }

    /// <summary>The head's module: "score" (GPT-2, Llama: no bias) or "classifier" (BERT: with bias).</summary>
    public required string ScoreModule { get; init; }

    /// <summary>Whether the score projection has a bias.</summary>
    public bool ScoreBias { get; init; }

    /// <summary>The pooler's module path among the body's tensors ("bert.pooler.dense"); null without a pooler.</summary>
    public string? PoolerModule { get; init; }

    /// <summary>
    /// Prefix of the body's tensors in the classifier's state dict that the body's own names lack:
    /// "transformer." for GPT-2 (Loom's body names are GPT2Model's), "" when they already carry it.
    /// </summary>
    public string BodyPrefix { get; init; } = "";

    /// <summary>
    /// Other names a body tensor may have in a base-model checkpoint (GPT2LMHeadModel's
    /// "transformer.wte.weight", BertModel's "embeddings..." without "bert."), tried after the
    /// body's own name and <see cref="BodyPrefix"/> + name.
    /// </summary>
    public Func<string, IEnumerable<string>> AlternativeNames { get; init; } = _ => [];

    /// <summary>
    /// Body tensors that are not part of the classifier (the LM head: Llama's lm_head, BERT's
    /// cls.predictions): frozen, not saved, and allowed to be missing from a checkpoint.
    /// </summary>
    public Func<string, bool> OutsideClassifier { get; init; } = _ => false;

    /// <summary>
    /// config.json's key whose value is the classifier dropout when classifier_dropout is null
    /// ("hidden_dropout_prob" for BERT); null when the family's head has no dropout (GPT-2, Llama).
    /// </summary>
    public string? ClassifierDropoutFallback { get; init; }

    /// <summary>
    /// The body's tensors for a config as a classifier builds it (ModelOptions.HiddenStatesOnly: no LM
    /// head), HF names, shapes and weight decay, without allocating: sizes the memory check before
    /// anything is allocated.
    /// </summary>
    public required Func<object, IReadOnlyList<(string Name, long[] Shape, bool WeightDecay)>> BodyTensors { get; init; }

    /// <summary>Width C of a config's hidden states.</summary>
    public required Func<object, int> HiddenSize { get; init; }

    /// <summary>Longest sequence of a config.</summary>
    public required Func<object, int> ContextLength { get; init; }

    /// <summary>The family's own weight initialisation of a body built from a config (seeded).</summary>
    public required Action<IHiddenStateModel, int> InitializeBody { get; init; }

    /// <summary>Activation checkpointing of a body: (body, value) sets it; null when the body has none.</summary>
    public Action<IHiddenStateModel, bool>? SetActivationCheckpointing { get; init; }
}
