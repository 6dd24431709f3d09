// Choices for building or loading a sequence classifier; null fields come from config.json the way
// Hugging Face's PretrainedConfig reads them (num_labels / id2label, problem_type, pad_token_id,
// classifier_dropout).
namespace Loom.Models.Classification;

/// <summary>Options of <see cref="SequenceClassifiers.Load"/> and <see cref="SequenceClassifiers.Create"/>.</summary>
public sealed record SequenceClassifierOptions
{
    /// <summary>Scores per sequence; null: config.json's num_labels or the size of its id2label, else <see cref="Labels"/>' count, else 2.</summary>
    public int? NumLabels { get; init; }

    /// <summary>The loss; null: config.json's problem_type, else <see cref="Classification.ProblemType.Regression"/> when NumLabels is 1 and SingleLabel otherwise (as HF infers it for integer labels).</summary>
    public ProblemType? ProblemType { get; init; }

    /// <summary>id2label names in id order; null: config.json's id2label when it has NumLabels entries, else LABEL_0, LABEL_1, ...</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>The padding id GPT-2 and Llama skip to find each row's last token; null: config.json's pad_token_id.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Dropout before BERT's classifier; null: config.json's classifier_dropout, else hidden_dropout_prob, else 0.</summary>
    public float? ClassifierDropout { get; init; }

    /// <summary>Seed of the head's initialisation when the directory holds no head weights (and of a fresh model's body in Create).</summary>
    public int Seed { get; init; } = 42;
}
