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
    public static ModelOptions WithQuantizedWeights(ModelOptions options, SafetensorsFile file, SafetensorsFile? extra = null)
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
                var matrix = QuantizedWeightParts.Open(t, file, extra);
                try { return new QuantizedProjection(c.Spec, c.Parameters, matrix, c.Pool); }
                catch { matrix.Dispose(); throw; }
            },
        };
    }

    /// <summary>
    /// The weights a quantization takes from a model of <paramref name="configuration"/>: every
    /// projection's own weight whose input width is a multiple of the block, except the output head
    /// (unless <paramref name="quantizeHead"/>; a tied head is the embedding and never counts).
    /// Embeddings and norms are not projections and stay float, as in llama.cpp.
    /// </summary>
    public static IReadOnlyDictionary<string, ProjectionSpec> Selectable(object configuration, Core.Kernels.Quantized.QuantFormat format, bool quantizeHead, ICollection<string>? keptFloat = null)
    {
        int block = Core.Kernels.Quantized.QuantFormatInfo.BlockSize(format);
        var specs = Adapters.LoraAdapters.Projections(configuration);
        var names = Parameters.ParameterSet.NamesOf(configuration);
        var head = specs.Where(s => s.Path == "lm_head").Select(s => s.WeightIndex).ToHashSet();
        var result = new Dictionary<string, ProjectionSpec>(StringComparer.Ordinal);
        foreach (var s in specs)
        {
            if (head.Contains(s.WeightIndex) && !(quantizeHead && s.Path == "lm_head" && specs.Count(o => o.WeightIndex == s.WeightIndex) == 1)) continue;
            string name = names[s.WeightIndex];
            if (s.InFeatures % block != 0)
            {
                keptFloat?.Add($"{name} ({s.InFeatures} inputs, not a multiple of {block})");
                continue;
            }
            result.TryAdd(name, s);
        }
        return result;
    }

    /// <summary>
    /// Options building a model of <paramref name="source"/>'s configuration whose selectable projection
    /// weights (see <see cref="Selectable"/>) are <paramref name="source"/>'s, quantized to
    /// <paramref name="format"/> while the model is built; they are frozen, and
    /// <paramref name="options"/>' own hook serves the other projections. Wrap the result in LoRA's
    /// options (LoraAdapters.CreateModelOptions(lora, config, thisResult)) for QLoRA. After building,
    /// copy the float tensors with <see cref="CopyFloatWeights"/>.
    /// </summary>
    /// <remarks><paramref name="doubleQuant"/> (nf4 only) double-quantizes the block scales (QLoRA §3).</remarks>
    public static ModelOptions OptionsFrom(ICausalLanguageModel source, Core.Kernels.Quantized.QuantFormat format, ModelOptions? options = null, bool quantizeHead = false, bool doubleQuant = false)
    {
        if (doubleQuant && format != Core.Kernels.Quantized.QuantFormat.NF4)
            throw new ArgumentException($"Double quantization applies to nf4 only; the format is {Core.Kernels.Quantized.QuantFormatInfo.Name(format)}.");
        ArgumentNullException.ThrowIfNull(source);
        options ??= ModelOptions.Inference;
        var selected = Selectable(source.Configuration, format, quantizeHead);
        var src = source.Parameters;
        var trainable = options.Trainable;
        var inner = options.Projections;
        return options with
        {
            Trainable = n => !selected.ContainsKey(n) && (trainable?.Invoke(n) ?? true),
            Projections = c =>
            {
                string name = c.Parameters.Specs[c.Spec.WeightIndex].Name;
                if (!selected.ContainsKey(name) || (c.Spec.Path == "lm_head" && !quantizeHead)) return inner?.Invoke(c) ?? c.CreateDense();
                Core.Kernels.Quantized.IQuantizedWeight matrix = QuantizedProjection.QuantizeWeight(c.Spec, src.Value(src.IndexOf(name)), format, c.Pool);
                if (doubleQuant)
                {
                    using var plain = (Core.Kernels.Quantized.QuantizedMatrix)matrix;
                    matrix = Core.Kernels.Quantized.Nf4DoubleQuantMatrix.FromPlain(plain);
                }
                try { return new QuantizedProjection(c.Spec, c.Parameters, matrix, c.Pool); }
                catch { matrix.Dispose(); throw; }
            },
        };
    }

    /// <summary>Copies every tensor of <paramref name="source"/> that <paramref name="target"/> holds as f32 (not held by a projection), by name.</summary>
    public static void CopyFloatWeights(ICausalLanguageModel source, ICausalLanguageModel target)
    {
        var src = source.Parameters;
        var p = target.Parameters;
        var names = new HashSet<string>(src.Specs.Select(s => s.Name), StringComparer.Ordinal);
        for (int i = 0; i < p.Specs.Count; i++)
            if (!p.IsHeldByProjection(i) && names.Contains(p.Specs[i].Name))
                src.Value(src.IndexOf(p.Specs[i].Name)).CopyTo(p.Value(i));
    }

    /// <summary>
    /// A copy of <paramref name="source"/> (an f32 model) with its selectable projection weights
    /// quantized to <paramref name="format"/> in memory (see <see cref="OptionsFrom"/>); the source can be
    /// disposed afterwards.
    /// </summary>
    public static ICausalLanguageModel CreateFrom(ICausalLanguageModel source, Core.Kernels.Quantized.QuantFormat format, ModelOptions? options = null, bool quantizeHead = false, WorkerPool? pool = null, bool doubleQuant = false)
    {
        var model = CausalLanguageModels.Create(source.Configuration, OptionsFrom(source, format, options, quantizeHead, doubleQuant), pool);
        CopyFloatWeights(source, model);
        return model;
    }

    /// <summary>Opens a quantized model directory built with <paramref name="options"/> (its hook, if any, wraps the quantized projections' neighbours).</summary>
    public static ICausalLanguageModel Load(string directory, ModelOptions options, WorkerPool? pool = null)
    {
        var config = CausalLanguageModels.ReadConfig(directory);
        string weights = Path.Combine(directory, "model.safetensors");
        using var file = SafetensorsFile.Open(weights);
        string extraPath = Path.Combine(directory, QuantizedWeightParts.ExtraFile);
        using var extra = File.Exists(extraPath) ? SafetensorsFile.Open(extraPath) : null;
        var model = CausalLanguageModels.Create(config, WithQuantizedWeights(options, file, extra), pool);
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
