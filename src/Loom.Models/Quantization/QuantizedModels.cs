// Opens a quantized model directory (QuantizedWeights describes the files): the family's model is
// built as usual, but each weight listed as quantized gets a QuantizedProjection over its blocks
// (read straight from the file) instead of a dense one, and its f32 slot is never loaded or written.
// Embeddings, norms and biases load as f32. Outer projection hooks (LoRA: QLoRA) wrap these the same
// way they wrap dense ones, so every causal family decodes, serves and fine-tunes quantized.
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Projections;

namespace Loom.Models.Quantization;

/// <summary>Builds models whose projections read quantized weights.</summary>
public static class QuantizedModels
{
    /// <summary>
    /// Options whose projections read the quantized weights <paramref name="file"/> lists (dense for
    /// the rest, or <paramref name="options"/>' own hook); those weights are frozen.
    /// </summary>
    public static ModelOptions WithQuantizedWeights(ModelOptions options, SafetensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tensors = QuantizedWeights.Read(file);
        var trainable = options.Trainable;
        var inner = options.Projections;
        return options with
        {
            Trainable = n => !tensors.ContainsKey(n) && (trainable?.Invoke(n) ?? true),
            Projections = c =>
            {
                string name = c.Parameters.Specs[c.Spec.WeightIndex].Name;
                if (!tensors.TryGetValue(name, out var t) && !tensors.TryGetValue("transformer." + name, out t))
                    return inner?.Invoke(c) ?? c.CreateDense();
                var blocks = new byte[t.ByteLength];
                file.ReadBytes(t.Name, blocks);
                var matrix = Core.Kernels.Quantized.QuantizedMatrix.FromBlocks(t.Format, t.Rows, t.Columns, blocks);
                try { return new QuantizedProjection(c.Spec, c.Parameters, matrix, c.Pool); }
                catch { matrix.Dispose(); throw; }
            },
        };
    }

    /// <summary>Opens a quantized model directory built with <paramref name="options"/> (its hook, if any, wraps the quantized projections' neighbours).</summary>
    public static ICausalLanguageModel Load(string directory, ModelOptions options, WorkerPool? pool = null)
    {
        var config = CausalLanguageModels.ReadConfig(directory);
        string weights = Path.Combine(directory, "model.safetensors");
        using var file = SafetensorsFile.Open(weights);
        var model = CausalLanguageModels.Create(config, WithQuantizedWeights(options, file), pool);
        try
        {
            CausalLanguageModels.LoadWeights(model, weights);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
