// What the trainer, the CLI and the reference tests need from any causal language model family.
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models;

/// <summary>A trainable causal language model (GPT-2, Llama, ...).</summary>
public interface ICausalLanguageModel : IDisposable
{
    /// <summary>The Hugging Face config record (<c>Gpt2Config</c>, <c>LlamaConfig</c>); records compare by value.</summary>
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

    /// <summary>Adds the gradient of lossScale × the last mean loss to the gradients.</summary>
    void Backward(float lossScale = 1f);

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    ReadOnlySpan<float> Logits { get; }
}
