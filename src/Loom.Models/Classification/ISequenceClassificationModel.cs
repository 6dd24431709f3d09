// What the fine-tuning loop, `loom classify` and the reference tests need from a sequence
// classifier (Hugging Face's GPT2/Bert/LlamaForSequenceClassification): a body, a head that reads
// one vector per sequence, and the loss config.problem_type names. One contract for every family,
// so the trainer never asks which family it holds.
using Loom.Models.Parameters;

namespace Loom.Models.Classification;

/// <summary>A trainable sequence classifier: token batches in, (B, num_labels) scores out.</summary>
public interface ISequenceClassificationModel : IDisposable
{
    /// <summary>The family's config record, with num_labels, id2label/label2id and problem_type as Hugging Face stores them.</summary>
    object Configuration { get; }

    /// <summary>Scores per sequence.</summary>
    int NumLabels { get; }

    /// <summary>Which loss the scores train under.</summary>
    ProblemType ProblemType { get; }

    /// <summary>Longest sequence the model accepts.</summary>
    int ContextLength { get; }

    /// <summary>Parameters (body and head); gradients exist only for trainable ones.</summary>
    ParameterSet Parameters { get; }

    /// <summary>Recompute each block's activations in the backward instead of keeping them.</summary>
    bool ActivationCheckpointing { get; set; }

    /// <summary>
    /// Scores (B, num_labels) of a padded batch (right padding for causal families; the attention
    /// mask marks real tokens). With labels, also the mean loss; without, NaN.
    /// </summary>
    float Forward(in TokenBatch batch, ClassificationLabels labels);

    /// <summary>Scores of the last forward, (B, num_labels): logits, or the regression outputs.</summary>
    ReadOnlySpan<float> Scores { get; }

    /// <summary>Adds the gradient of lossScale × the last mean loss to the trainable parameters' gradients.</summary>
    void Backward(float lossScale = 1f);

    /// <summary>
    /// Backward of an arbitrary function of the last forward's scores: given its gradient with respect to
    /// the scores (B, num_labels), adds the parameter gradients and runs the body's backward, also when
    /// no body tensor trains (attribution reads the input gradient through <see cref="IWordEmbeddingGradient"/>).
    /// </summary>
    void BackwardScores(ReadOnlySpan<float> scoreGradient) =>
        throw new NotSupportedException($"{GetType().Name} has no backward from arbitrary score gradients; attribution methods need it.");

    /// <summary>The body (Hugging Face's base_model): ask it for capabilities such as <see cref="IWordEmbeddingGradient"/>.</summary>
    IHiddenStateModel Body => throw new NotSupportedException($"{GetType().Name} exposes no body.");

    /// <summary>Writes a Hugging Face directory (model.safetensors, config.json with architectures and labels).</summary>
    void Save(string directory);
}
