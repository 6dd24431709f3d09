// The registry of model-path formats (IModelFormat). Loom.Models' own forms (GGUF files, `loom quantize`
// directories) are in it from the start; other assemblies add theirs with an explicit call
// (Loom.Compression: LowRankModels.Register()), made by the CLI at start-up and by library users
// before loading — never left to a static initialiser that may not have run.
using Loom.Core.Threading;
using Loom.Models.Formats.Gguf;
using Loom.Models.Quantization;

namespace Loom.Models.Formats;

/// <summary>Model-path formats, probed in registration order.</summary>
public static class ModelFormats
{
    private static readonly object s_lock = new();
    private static IModelFormat[] s_formats = [new GgufFormat(), new QuantizedFormat()];

    /// <summary>The registered formats, in probe order.</summary>
    public static IReadOnlyList<IModelFormat> All => Volatile.Read(ref s_formats);

    /// <summary>Adds <paramref name="format"/>; registering a second format with the same name replaces nothing and is ignored (so Register() calls are idempotent).</summary>
    public static void Register(IModelFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        lock (s_lock)
        {
            if (s_formats.Any(f => string.Equals(f.Name, format.Name, StringComparison.Ordinal))) return;
            Volatile.Write(ref s_formats, [.. s_formats, format]);
        }
    }

    /// <summary>The first format that can open <paramref name="path"/>, or null (a Hugging Face directory, or nothing openable).</summary>
    public static IModelFormat? Find(string path)
    {
        foreach (var f in All)
            if (f.CanOpen(path)) return f;
        return null;
    }

    // A .gguf file (GGUF v3, llama.cpp's format): the weights through GgufModels; its tokenizer is
    // Loom.Inference's business (Gguf/GgufModelFiles). Quantized tensors stay quantized.
    private sealed class GgufFormat : IModelFormat
    {
        public string Name => "gguf";
        public bool CanOpen(string path) => GgufFile.IsGguf(path);   // probes only regular files
        public ICausalLanguageModel Load(string path, ModelOptions options, WorkerPool? pool = null)
        {
            using var file = GgufFile.Open(path);
            return GgufModels.Load(file, options, pool);
        }
    }

    // A directory written by `loom quantize`: config.json carries the quantization block.
    private sealed class QuantizedFormat : IModelFormat
    {
        public string Name => "quantized";
        public bool CanOpen(string path) => QuantizedWeights.IsQuantizedDirectory(path);   // reads config.json only when it is a regular file
        public ICausalLanguageModel Load(string path, ModelOptions options, WorkerPool? pool = null) => QuantizedModels.Load(path, options, pool);
    }
}
