// A causal language model to and from GGUF, for any family whose registry row has a GgufArchitecture.
//
// Import: general.architecture picks the family, its metadata gives the config, the model is built (memory
// checked first) and every parameter is read from its llama.cpp tensor — decoded to float (F32, F16, BF16,
// and the block-quantized types whose codecs are registered), rearranged (GPT-2's Conv1D transpose, Llama's
// RoPE row permutation undone) — with each shape checked and nothing left over. Export: the reverse, with the
// tensor types chosen as llama.cpp's converter and llama-quantize choose them (see TensorType).
using Loom.Core.Kernels.Quantized;
using Loom.Core.Threading;
using Loom.Models.Projections;
using Loom.Models.Families;
using Loom.Models.Parameters;

namespace Loom.Models.Formats.Gguf;

/// <summary>Reads and writes causal language models in GGUF.</summary>
public static class GgufModels
{
    /// <summary>general.quantization_version as llama.cpp writes it (GGML_QNT_VERSION).</summary>
    public const uint QuantizationVersion = 2;

    /// <summary>The family of <paramref name="file"/> by general.architecture; throws naming the supported ones.</summary>
    public static ModelFamily FamilyOf(GgufFile file)
    {
        string arch = file.GetString("general.architecture");
        return ModelFamilies.ForGgufArchitecture(arch)
            ?? throw new NotSupportedException($"{file.Path}: general.architecture is \"{arch}\"; Loom reads GGUF models of {string.Join(", ", ModelFamilies.All.Where(f => f.Gguf != null).Select(f => f.Gguf!.Name))}.");
    }

    /// <summary>The config record the file describes (e.g. a Gpt2Config).</summary>
    public static object ReadConfiguration(GgufFile file) => FamilyOf(file).Gguf!.ReadConfiguration(file);

    /// <summary>
    /// Builds the file's model with <paramref name="options"/> and reads its weights. Block-quantized
    /// projection weights (Q8_0, Q4_0, Q4_K, Q6_K: ggml's byte layout is Loom.Core's) and F16 ones stay as they
    /// are in a QuantizedProjection, rows being output features as in ggml, so the model runs the file's own
    /// weights at their size; with <paramref name="keepQuantized"/> false, or for a weight the
    /// embeddings share (GPT-2's tied head), they are dequantized into f32 instead.
    /// </summary>
    public static ICausalLanguageModel Load(GgufFile file, ModelOptions options, WorkerPool? pool = null, bool keepQuantized = true)
    {
        var config = ReadConfiguration(file);
        if (keepQuantized) options = WithQuantizedProjections(file, config, options);
        var model = CausalLanguageModels.Create(config, options, pool);
        try
        {
            LoadWeights(model, file);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    // Options whose projections read quantized GGUF weights as blocks; those weights are frozen. A
    // parameter with a second GGUF tensor (GPT-2's tied head, written again as output.weight) keeps its f32
    // values for the embedding lookup, and its projection reads the second tensor's blocks, as llama.cpp
    // does (llama-quantize makes output.weight Q6_K or Q8_0 while token_embd takes the file's type).
    private static ModelOptions WithQuantizedProjections(GgufFile file, object config, ModelOptions options)
    {
        var maps = FamilyOf(file).Gguf!.Tensors(config);
        var copies = maps.Where(m => m.Copy).ToDictionary(m => m.ParameterName, StringComparer.Ordinal);
        var quantized = new Dictionary<string, (GgufTensorInfo Info, GgufTensorMap Map, QuantFormat Format, bool Shared)>(StringComparer.Ordinal);
        foreach (var map in maps)
        {
            if (map.Copy) continue;
            bool shared = copies.TryGetValue(map.ParameterName, out var copy);
            var info = shared ? file.Find(copy!.GgufName) : file.Find(map.GgufName) ?? (map.FallbackName is { } f ? file.Find(f) : null);
            if (info is { Dimensions.Length: 2 } && GgufTensorCodec.ProjectionFormatOf(info.Type) is QuantFormat format)
                quantized[map.ParameterName] = (info, shared ? copy! : map, format, shared);
        }
        if (quantized.Count == 0) return options;
        var trainable = options.Trainable;
        var inner = options.Projections;
        return options with
        {
            Trainable = n => !quantized.ContainsKey(n) && (trainable?.Invoke(n) ?? true),
            Projections = c =>
            {
                string name = c.Parameters.Specs[c.Spec.WeightIndex].Name;
                if (!quantized.TryGetValue(name, out var q)) return inner?.Invoke(c) ?? c.CreateDense();
                int rows = checked((int)q.Info.Dimensions[1]), cols = checked((int)q.Info.Dimensions[0]);
                var blocks = new byte[q.Info.ByteCount];
                file.ReadBytes(q.Info, blocks);
                if (q.Map.Layout == GgufTensorLayout.RotaryPermuted)
                {
                    // Undo the converter's row permutation on whole rows of blocks.
                    var permuted = blocks;
                    blocks = new byte[permuted.Length];
                    PermuteRows(permuted, blocks, rows, permuted.Length / rows, q.Map.Heads, toGguf: false);
                }
                var matrix = QuantizedMatrix.FromBlocks(q.Format, rows, cols, blocks);
                try { return new QuantizedProjection(c.Spec, c.Parameters, matrix, c.Pool, sharedWeight: q.Shared); }
                catch { matrix.Dispose(); throw; }
            },
        };
    }

    /// <summary>Reads every parameter of <paramref name="model"/> from <paramref name="file"/>; every GGUF tensor must be used.</summary>
    public static void LoadWeights(ILanguageModel model, GgufFile file)
    {
        var family = ModelFamilies.ForConfiguration(model.Configuration);
        var arch = family?.Gguf ?? throw new NotSupportedException($"{CausalLanguageModels.Describe(model.Configuration)} has no GGUF mapping.");
        var maps = arch.Tensors(model.Configuration);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var p = model.Parameters;
        foreach (var map in maps)
        {
            var info = file.Find(map.GgufName);
            int index = p.IndexOf(map.ParameterName);
            var spec = p.Specs[index];
            if (map.Copy)
            {
                // A second copy of a tied parameter: it must hold the same weights (to within quantization).
                if (info is null) continue;
                used.Add(info.Name);
                var copy = Decode(file, info, spec, map);
                EnsureSameWeights(file, info, p.Value(index), copy, map);
                continue;
            }
            if (info is null && map.FallbackName != null) info = file.Find(map.FallbackName);
            if (info is null)
                throw new InvalidDataException($"{file.Path}: no tensor \"{map.GgufName}\", which {CausalLanguageModels.Describe(model.Configuration)} needs (for {map.ParameterName}); the file's metadata does not match its tensors.");
            used.Add(info.Name);
            if (p.IsHeldByProjection(index)) continue;   // read as blocks by its QuantizedProjection
            Decode(file, info, spec, map).CopyTo(p.Value(index));
        }
        foreach (var t in file.Tensors)
            if (!used.Contains(t.Name))
                throw new InvalidDataException($"{file.Path}: tensor \"{t.Name}\" ({t.Type}) is not part of the {CausalLanguageModels.Describe(model.Configuration)} model Loom builds from the metadata; Loom does not know what it is for.");
        ParameterCheck.EnsureFinite(model.Parameters, file.Path);
    }

    // A GGUF tensor decoded and rearranged into a parameter's row-major layout.
    private static float[] Decode(GgufFile file, GgufTensorInfo info, ParameterSpec spec, GgufTensorMap map)
    {
        long[] want = GgufShape(spec.Shape, map.Layout);
        if (!info.Dimensions.AsSpan().SequenceEqual(want))
            throw new InvalidDataException($"{file.Path}: tensor \"{info.Name}\" has ne [{string.Join(", ", info.Dimensions)}] but {spec.Name} needs ne [{string.Join(", ", want)}]; the metadata does not match the tensors.");
        if (!GgufTensorCodec.CanDecode(info.Type))
            throw new NotSupportedException($"{file.Path}: tensor \"{info.Name}\" is {info.Type}, which Loom cannot read; readable types: {string.Join(", ", GgufTensorCodec.Decodable)}.");
        var bytes = new byte[info.ByteCount];
        file.ReadBytes(info, bytes);
        var values = new float[info.ElementCount];
        GgufTensorCodec.ToSingle(info.Type, bytes, values);
        return FromGguf(values, spec.Shape, map);
    }

    private static void EnsureSameWeights(GgufFile file, GgufTensorInfo info, ReadOnlySpan<float> first, float[] copy, GgufTensorMap map)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < copy.Length; i++)
        {
            double d = copy[i] - first[i];
            diff += d * d;
            norm += (double)first[i] * first[i];
        }
        // Quantization noise of even Q4_0 stays well below a quarter of the weights' RMS; an untied head
        // of independent weights is √2 times it.
        if (diff > 0.0625 * norm)
            throw new NotSupportedException($"{file.Path}: tensor \"{info.Name}\" differs from {map.ParameterName} (relative RMS difference {Math.Sqrt(diff / Math.Max(norm, 1e-30)):F3}): the file has an untied output head, and Loom's {map.ParameterName.Split('.')[0]} model ties it to the token embeddings.");
    }

    /// <summary>The ggml dimensions (ne) of a parameter of row-major <paramref name="shape"/> under <paramref name="layout"/>.</summary>
    public static long[] GgufShape(long[] shape, GgufTensorLayout layout) =>
        layout == GgufTensorLayout.Transposed ? (long[])shape.Clone() : shape.Reverse().ToArray();

    // GGUF row-major data → the parameter's row-major data.
    private static float[] FromGguf(float[] g, long[] shape, GgufTensorMap map)
    {
        switch (map.Layout)
        {
            case GgufTensorLayout.Same: return g;
            case GgufTensorLayout.Transposed:
            {
                // parameter [a, b]; GGUF holds [b, a] row-major.
                int a = (int)shape[0], b = (int)shape[1];
                var r = new float[g.Length];
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < a; j++) r[j * b + i] = g[i * a + j];
                return r;
            }
            default:
            {
                var r = new float[g.Length];
                Permute(g, r, shape, map.Heads, toGguf: false);
                return r;
            }
        }
    }

    // The parameter's row-major data → GGUF row-major data.
    private static float[] ToGguf(ReadOnlySpan<float> v, long[] shape, GgufTensorMap map)
    {
        var g = new float[v.Length];
        switch (map.Layout)
        {
            case GgufTensorLayout.Same: v.CopyTo(g); break;
            case GgufTensorLayout.Transposed:
            {
                int a = (int)shape[0], b = (int)shape[1];
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < a; j++) g[i * a + j] = v[j * b + i];
                break;
            }
            default: Permute(v.ToArray(), g, shape, map.Heads, toGguf: true); break;
        }
        return g;
    }

    // The same row permutation as Permute, on rows of rowBytes bytes (quantized blocks).
    private static void PermuteRows(byte[] source, byte[] destination, int rows, int rowBytes, int heads, bool toGguf)
    {
        int d = rows / heads, half = d / 2;
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int k = 0; k < 2; k++)
                {
                    int hf = h * d + k * half + j, gg = h * d + 2 * j + k;
                    int from = toGguf ? hf : gg, to = toGguf ? gg : hf;
                    Array.Copy(source, (long)from * rowBytes, destination, (long)to * rowBytes, rowBytes);
                }
    }

    // convert_hf_to_gguf.py LlamaModel.permute: within each head of d rows, GGUF row 2j + k is Hugging
    // Face row k·d/2 + j (k ∈ {0, 1}): rotate-half pairs (j, j + d/2) become adjacent pairs (2j, 2j + 1).
    private static void Permute(float[] source, float[] destination, long[] shape, int heads, bool toGguf)
    {
        int rows = (int)shape[0], cols = shape.Length > 1 ? (int)shape[1] : 1, d = rows / heads, half = d / 2;
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int k = 0; k < 2; k++)
                {
                    int hf = h * d + k * half + j, gg = h * d + 2 * j + k;
                    int from = toGguf ? hf : gg, to = toGguf ? gg : hf;
                    Array.Copy(source, (long)from * cols, destination, (long)to * cols, cols);
                }
    }

    /// <summary>
    /// The ggml type of one exported tensor, as llama.cpp chooses it. Converter (convert_hf_to_gguf.py
    /// prepare_tensors): 1-D tensors and norms stay F32, and so does the architecture's KeepF32 list (GPT-2's
    /// position_embd). llama-quantize (src/llama-quant.cpp llama_tensor_get_type, non-pure): output.weight
    /// becomes Q6_K for every quantized type but Q8_0 (which keeps Q8_0); a row length that is not a whole
    /// number of blocks falls back (llama.cpp: Q4_K → Q5_0, Q6_K → Q8_0; Loom has no Q5_0, so Q8_0) and, when
    /// even 32 does not divide it, to F16.
    /// </summary>
    public static GgmlType TensorType(GgufArchitecture arch, string ggufName, long[] ne, GgufFileType fileType)
    {
        if (ne.Length <= 1 || ggufName.EndsWith("_norm.weight", StringComparison.Ordinal) || arch.KeepF32.Contains(ggufName)) return GgmlType.F32;
        var type = GgufFileTypes.TensorType(fileType);
        if (type is GgmlType.F32 or GgmlType.F16) return type;
        if (ggufName == "output.weight" && type != GgmlType.Q8_0) type = GgmlType.Q6_K;
        if (ne[0] % GgmlTypes.Size(type)!.Value.BlockSize != 0) type = GgmlType.Q8_0;
        if (ne[0] % 32 != 0) type = GgmlType.F16;
        return type;
    }

    /// <summary>
    /// Adds <paramref name="model"/>'s general.* and architecture metadata and its tensors to <paramref name="writer"/>
    /// (the tokenizer is the caller's: <see cref="GgufVocabulary.AddTo"/>). Returns the tensors' types by name.
    /// </summary>
    public static IReadOnlyDictionary<string, GgmlType> AddModel(GgufWriter writer, ILanguageModel model, GgufFileType fileType, string name)
    {
        var arch = ModelFamilies.ForConfiguration(model.Configuration)?.Gguf
            ?? throw new NotSupportedException($"{CausalLanguageModels.Describe(model.Configuration)} has no GGUF export; families with one: {string.Join(", ", ModelFamilies.All.Where(f => f.Gguf != null).Select(f => f.ModelType))}.");
        writer.Add("general.architecture", GgufValue.Of(arch.Name));
        writer.Add("general.name", GgufValue.Of(name));
        foreach (var (k, v) in arch.Metadata(model.Configuration)) writer.Add(k, v);
        writer.Add("general.file_type", GgufValue.Of(GgufFileTypes.Id(fileType)));
        writer.Add("general.quantization_version", GgufValue.Of(QuantizationVersion));
        var types = new Dictionary<string, GgmlType>(StringComparer.Ordinal);
        var p = model.Parameters;
        foreach (var map in arch.Tensors(model.Configuration))
        {
            int index = p.IndexOf(map.ParameterName);
            var spec = p.Specs[index];
            long[] ne = GgufShape(spec.Shape, map.Layout);
            var type = TensorType(arch, map.GgufName, ne, fileType);
            if (!GgufTensorCodec.CanEncode(type))
                throw new NotSupportedException($"--type {fileType.ToString().ToLowerInvariant()}: tensor {map.GgufName} would be {type}, which this build of Loom cannot write.");
            types[map.GgufName] = type;
            var captured = map;
            writer.AddTensor(map.GgufName, type, ne, bytes =>
            {
                var g = ToGguf(p.Value(index), spec.Shape, captured);
                GgufTensorCodec.FromSingle(type, g, bytes, (int)ne[0]);
            });
        }
        return types;
    }
}
