// One on-disk form a causal language model can take (a Hugging Face directory is the default, not a
// format here): a GGUF file, a `loom quantize` directory, a `loom compress lowrank` directory. The
// assembly that owns a form implements this and registers it in ModelFormats, so CausalLanguageModels.Load
// — and with it every command, the inference engine and the server — opens every form without a type switch.
using Loom.Core.Threading;

namespace Loom.Models.Formats;

/// <summary>A model-path format that <see cref="CausalLanguageModels.Load(string, ModelOptions, WorkerPool?)"/> consults.</summary>
public interface IModelFormat
{
    /// <summary>A short name for messages and de-duplication ("gguf", "quantized", "low-rank").</summary>
    string Name { get; }

    /// <summary>
    /// True when <paramref name="path"/> is in this format. Must be cheap and safe: it may read only
    /// regular files (a FIFO must never be opened: the probe would block), and must not throw on a
    /// path that does not exist or is broken (the loader then names what is wrong).
    /// </summary>
    bool CanOpen(string path);

    /// <summary>Opens <paramref name="path"/> as a causal language model built with <paramref name="options"/>.</summary>
    ICausalLanguageModel Load(string path, ModelOptions options, WorkerPool? pool = null);
}
