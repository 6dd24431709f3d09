// What the pre-training loop (LanguageModelTraining), checkpoints and the CLI need from any language
// model that trains on (ids, targets) batches: causal families (GPT-2, Llama: targets are the next
// tokens) and masked ones (BERT's BertForMaskedLM: targets are the masked positions, −100 elsewhere).
// The loss is the same mean token cross-entropy over targets ≠ −100 either way, so one trainer serves both.
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models;

/// <summary>A trainable language model: (ids, targets) batches in, mean token cross-entropy out.</summary>
public interface ILanguageModel : IDisposable
{
    /// <summary>The Hugging Face config record (<c>Gpt2Config</c>, <c>LlamaConfig</c>, <c>BertConfig</c>); records compare by value.</summary>
    object Configuration { get; }

    /// <summary>Ids the embedding and the head cover.</summary>
    int VocabularySize { get; }

    /// <summary>Longest sequence the model accepts.</summary>
    int ContextLength { get; }

    /// <summary>Parameters and gradients.</summary>
    ParameterSet Parameters { get; }

    /// <summary>Recompute each block's activations in the backward instead of keeping them; families without it throw when set.</summary>
    bool ActivationCheckpointing { get; set; }

    /// <summary>Fills the weights with the family's initialisation.</summary>
    void InitializeWeights(int seed);

    /// <summary>Reads every parameter by its Hugging Face name, checking shapes.</summary>
    void LoadWeights(SafetensorsFile file, string prefix = "");

    /// <summary>Writes model.safetensors and config.json.</summary>
    void Save(string directory);

    /// <summary>Forward on B·T ids; with targets returns the mean loss over targets ≠ −100, else NaN.</summary>
    float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time);

    /// <summary>
    /// Forward on a <see cref="TokenBatch"/>, which may pack several documents per row through its
    /// <see cref="TokenBatch.PositionIds"/> (GPT-2 and Llama); a model that cannot refuses packed batches.
    /// </summary>
    float Forward(in TokenBatch batch, ReadOnlySpan<int> targets)
    {
        if (!batch.PositionIds.IsEmpty)
            throw new NotSupportedException($"{GetType().Name} cannot keep packed documents apart (position ids); turn packing off.");
        return Forward(batch.Ids, targets, batch.Batch, batch.Time);
    }

    /// <summary>Adds the gradient of lossScale × the last mean loss to the gradients.</summary>
    void Backward(float lossScale = 1f);

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    ReadOnlySpan<float> Logits { get; }

    /// <summary>
    /// True for a parameter a saved model may leave out (its loader keeps it as built): BertForMaskedLM
    /// files carry no pooler, which only classification heads use. False for every other tensor.
    /// </summary>
    bool MayBeAbsentFromWeights(string name) => false;
}
