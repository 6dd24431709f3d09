// LoRA for every family through the projection seam and parameter roles, with PEFT's file format.
//  - CreateModelOptions: LoraOptions → ModelOptions (the adapter tensors join the model's ParameterSet
//    as "<path>.lora_A.weight"/"lora_B.weight", a projection factory wraps the targeted projections,
//    a trainable predicate freezes the base), so no model file knows about LoRA.
//  - Save / LoadInto: adapter_model.safetensors with PEFT's names, "base_model.model.<HF module
//    path>.lora_A.weight" (peft/utils/save_and_load.py get_peft_model_state_dict: the adapter name
//    ".default" is stripped, modules_to_save tensors lose "modules_to_save."). The HF module path is the
//    *ForCausalLM / *ForSequenceClassification one, so GPT-2's body modules carry "transformer." even
//    though GPT-2 base checkpoints omit it (the family's SequenceClassifierLayout.BodyPrefix).
//  - Merge: W ← W + s·B·A (transposed for fan_in_fan_out), PEFT's merge_and_unload.
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Loom.Core.IO;
using Loom.Core.Threading;
using Loom.Models.Families;
using Loom.Models.Formats;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Models.Adapters;

/// <summary>Builds, loads, saves and merges LoRA adapters in PEFT's format.</summary>
public static class LoraAdapters
{
    /// <summary>PEFT's weights file.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    private const string PeftPrefix = "base_model.model.";
    private static readonly ConditionalWeakTable<ParameterSet, LoraRuntime> s_runtimes = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<object, IReadOnlyList<ProjectionSpec>> s_projections = new();

    /// <summary>One adapted projection: Loom's module path, PEFT's (HF) module path, and the projection's shape.</summary>
    public sealed record Target(string Path, string PeftPath, ProjectionSpec Spec)
    {
        /// <summary>Loom's name of lora_A in the model's ParameterSet.</summary>
        public string AName => Path + ".lora_A.weight";

        /// <summary>Loom's name of lora_B in the model's ParameterSet.</summary>
        public string BName => Path + ".lora_B.weight";

        /// <summary>The last component of the path ("c_attn", "q_proj"), what target_modules names.</summary>
        public string ShortName => Path[(Path.LastIndexOf('.') + 1)..];
    }

    /// <summary>
    /// Model options that add the adapter <paramref name="lora"/> describes to a model of
    /// <paramref name="configuration"/>: A (Kaiming-uniform, as PEFT) and B (zero) are initialised by
    /// <see cref="InitializeAdapter"/>; the base is frozen; <paramref name="baseOptions"/>' projections
    /// are wrapped and its trainable predicate still applies (Inference freezes the adapter too).
    /// Throws <see cref="ArgumentException"/> listing the model's module names when a target matches none.
    /// </summary>
    public static ModelOptions CreateModelOptions(LoraOptions lora, object configuration, ModelOptions? baseOptions = null)
    {
        ArgumentNullException.ThrowIfNull(lora);
        lora.Validate();
        baseOptions ??= ModelOptions.Default;
        var targets = FindTargets(lora, configuration);
        var byPath = targets.ToDictionary(t => t.Path, StringComparer.Ordinal);
        var adapterNames = new HashSet<string>(targets.SelectMany(t => new[] { t.AName, t.BName }), StringComparer.Ordinal);
        var targetBiases = new HashSet<string>(targets.Where(t => t.Spec.HasBias).Select(t => t.Path + ".bias"), StringComparer.Ordinal);
        var tensors = targets.SelectMany(t => new (string, long[], bool)[]
        {
            (t.AName, [lora.Rank, t.Spec.InFeatures], true),
            (t.BName, [t.Spec.OutFeatures, lora.Rank], true),
        }).ToList();
        var baseTrainable = baseOptions.Trainable;
        var baseProjections = baseOptions.Projections;
        float scaling = lora.Scaling;
        bool Trains(string n) =>
            adapterNames.Contains(n)
            || lora.Bias == LoraBias.All && n.EndsWith(".bias", StringComparison.Ordinal)
            || lora.Bias == LoraBias.LoraOnly && targetBiases.Contains(n)
            || lora.ModulesToSave.Any(m => IsInModule(n, m));
        return baseOptions with
        {
            HeadParameters = [.. baseOptions.HeadParameters, .. tensors],
            Trainable = n => Trains(n) && (baseTrainable?.Invoke(n) ?? true),
            Projections = c =>
            {
                var inner = baseProjections?.Invoke(c) ?? c.CreateDense();
                if (!byPath.TryGetValue(c.Spec.Path, out var t)) return inner;
                var runtime = s_runtimes.GetValue(c.Parameters, _ => new LoraRuntime(lora.Dropout, lora.Seed));
                return new LoraProjection(inner, c.Parameters, c.Parameters.IndexOf(t.AName), c.Parameters.IndexOf(t.BName), scaling, runtime, c.Pool);
            },
        };
    }

    /// <summary>
    /// The shared mode of a LoRA model's projections (training mode turns lora_dropout on); null when
    /// <paramref name="parameters"/> belongs to a model without LoRA projections.
    /// </summary>
    public static LoraRuntime? Runtime(ParameterSet parameters) => s_runtimes.TryGetValue(parameters, out var r) ? r : null;

    /// <summary>A as PEFT initialises it (kaiming_uniform_ with a = √5: U(−1/√in, 1/√in)), B zero, so the model starts equal to its base.</summary>
    public static void InitializeAdapter(ParameterSet parameters, int seed)
    {
        var rng = new Random(seed);
        foreach (var (s, i) in parameters.Specs.Select((s, i) => (s, i)))
        {
            if (s.Name.EndsWith(".lora_A.weight", StringComparison.Ordinal))
            {
                // torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5)): gain = √(2/(1+5)), bound = gain·√(3/fan_in) = 1/√fan_in
                float bound = 1f / MathF.Sqrt(s.Shape[1]);
                var v = parameters.Value(i);
                for (int k = 0; k < v.Length; k++) v[k] = (float)(rng.NextDouble() * 2 - 1) * bound;
            }
            else if (s.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal)) parameters.Value(i).Clear();
        }
    }

    /// <summary>The projections <paramref name="lora"/> adapts in a model of <paramref name="configuration"/>, in model order.</summary>
    public static IReadOnlyList<Target> FindTargets(LoraOptions lora, object configuration)
    {
        var family = Family(configuration);
        var all = Projections(configuration);
        var candidates = all.Select(s => new Target(s.Path, PeftPath(family, s.Path), s)).ToList();
        Regex? rx = lora.TargetModulesRegex is { } pattern ? new Regex("^(?:" + pattern + ")$") : null;
        bool allLinear = lora.TargetModules.Count == 1 && lora.TargetModules[0] == LoraOptions.AllLinear;
        var chosen = candidates.Where(t =>
            rx != null ? rx.IsMatch(t.PeftPath) || rx.IsMatch(t.Path)
            : allLinear ? !IsOutputLayer(t.Path) && !lora.ModulesToSave.Any(m => t.Path == m || t.Path.EndsWith("." + m, StringComparison.Ordinal))
            : lora.TargetModules.Any(m => Matches(t.PeftPath, m) || Matches(t.Path, m))).ToList();
        string names = string.Join(", ", candidates.Select(t => t.ShortName).Distinct());
        if (chosen.Count == 0)
            throw new ArgumentException($"target_modules {(rx != null ? $"\"{lora.TargetModulesRegex}\"" : "[" + string.Join(", ", lora.TargetModules) + "]")} matches no projection of this {family.Describe(configuration)} model; its module names are {names} (full paths like {candidates[0].PeftPath}).");
        if (rx == null && !allLinear)
            foreach (var m in lora.TargetModules)
                if (!candidates.Any(t => Matches(t.PeftPath, m) || Matches(t.Path, m)))
                    throw new ArgumentException($"target_modules names \"{m}\", which matches no projection of this {family.Describe(configuration)} model; its module names are {names}.");
        return chosen;
    }

    // PEFT check_target_module_exists: key == target or key.endswith("." + target).
    private static bool Matches(string path, string name) => path == name || path.EndsWith("." + name, StringComparison.Ordinal);

    private static bool IsInModule(string tensor, string module) =>
        tensor.StartsWith(module + ".", StringComparison.Ordinal) || tensor.Contains("." + module + ".", StringComparison.Ordinal);

    // PEFT's all-linear leaves out the output layer (model.get_output_embeddings()): the LM head, BERT's MLM decoder.
    private static bool IsOutputLayer(string path) => path == "lm_head" || path.EndsWith("predictions.decoder", StringComparison.Ordinal);

    // The *ForCausalLM / *ForSequenceClassification path: body modules under the family's body prefix
    // ("transformer." for GPT-2), the heads (lm_head, score, classifier) at the top level.
    private static string PeftPath(ModelFamily family, string path)
    {
        string bodyPrefix = family.SequenceClassifier?.BodyPrefix ?? "";
        string? score = family.SequenceClassifier?.ScoreModule;
        bool head = IsOutputLayer(path) || score is not null && (path == score || path.StartsWith(score + ".", StringComparison.Ordinal));
        return bodyPrefix.Length == 0 || head || path.StartsWith(bodyPrefix, StringComparison.Ordinal) ? path : bodyPrefix + path;
    }

    /// <summary>Every weight matmul of a model of <paramref name="configuration"/> (path, layout, sizes), from a frozen build of the model.</summary>
    public static IReadOnlyList<ProjectionSpec> Projections(object configuration)
    {
        var family = Family(configuration);
        // Config records compare by value, so each shape is probed once per process.
        if (s_projections.TryGetValue(configuration, out var known)) return known;
        // Encoder-decoder families (T5) have no body-only build; their full model is built instead.
        Func<object, ModelOptions, WorkerPool?, IDisposable> create = family.CreateHiddenStateModel is { } body ? (c, o, p) => body(c, o, p)
            : family.CreateSeq2SeqModel is { } seq2seq ? (c, o, p) => seq2seq(c, o, p)
            : throw new NotSupportedException($"Model family \"{family.ModelType}\" cannot be built, so LoRA cannot be applied to it.");
        var specs = new List<ProjectionSpec>();
        // The seam tells each projection's path, layout and sizes only while a model is built, so one is
        // built frozen (no gradient block, no activations) and dropped. It costs one value block's allocation.
        var probe = ModelOptions.Inference with { Projections = c => { specs.Add(c.Spec); return c.CreateDense(); } };
        using (create(configuration, probe, WorkerPool.Shared)) { }
        return s_projections.GetOrAdd(configuration, specs);
    }

    private static ModelFamily Family(object configuration) =>
        ModelFamilies.ForConfiguration(configuration ?? throw new ArgumentNullException(nameof(configuration)))
        ?? throw new NotSupportedException($"{configuration.GetType().Name} is not a registered model family's configuration.");

    /// <summary>
    /// Writes the adapter of a model built with <see cref="CreateModelOptions"/> to
    /// <paramref name="directory"/> in PEFT's layout: adapter_config.json and adapter_model.safetensors.
    /// </summary>
    public static void Save(ParameterSet parameters, object configuration, LoraOptions lora, string directory)
    {
        var targets = FindTargets(lora, configuration);
        var items = new List<SafetensorsWriter.Item>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name, int index)
        {
            if (names.Add(name)) items.Add(new(name, parameters.Specs[index].Shape, parameters.Value(index).ToArray()));
        }
        foreach (var t in targets)
        {
            Add(PeftPrefix + t.PeftPath + ".lora_A.weight", parameters.IndexOf(t.AName));
            Add(PeftPrefix + t.PeftPath + ".lora_B.weight", parameters.IndexOf(t.BName));
        }
        var family = Family(configuration);
        foreach (var (s, i) in parameters.Specs.Select((s, i) => (s, i)))
        {
            bool bias = s.Name.EndsWith(".bias", StringComparison.Ordinal) && (lora.Bias == LoraBias.All
                || lora.Bias == LoraBias.LoraOnly && targets.Any(t => t.Spec.HasBias && s.Name == t.Path + ".bias"));
            if (bias || lora.ModulesToSave.Any(m => IsInModule(s.Name, m)))
                Add(PeftPrefix + TensorPeftName(family, s.Name), i);
        }
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, WeightsFileName), items, new Dictionary<string, string> { ["format"] = "pt" });
        bool fanInFanOut = lora.FanInFanOut ?? targets.Any(t => t.Spec.Layout == ProjectionLayout.InOut);
        LoraAdapterConfig.Write(directory, lora, targets.Select(t => t.ShortName).Distinct(), fanInFanOut);
    }

    // A tensor's name under PEFT: the module path mapped like a projection's, the last component kept.
    private static string TensorPeftName(ModelFamily family, string tensor)
    {
        int dot = tensor.LastIndexOf('.');
        return PeftPath(family, tensor[..dot]) + tensor[dot..];
    }

    /// <summary>
    /// Reads adapter_config.json from <paramref name="adapterDirectory"/> and returns options that add
    /// that adapter to a model of <paramref name="configuration"/> built with <paramref name="baseOptions"/>;
    /// after building (and loading the base weights, see <see cref="LoadBaseWeights"/>), call
    /// <see cref="LoadInto"/>. This is the call <c>classify --adapter</c> and <c>serve --adapter</c> use.
    /// </summary>
    public static (ModelOptions Options, LoraOptions Lora) Apply(ModelOptions baseOptions, object configuration, string adapterDirectory)
    {
        var lora = LoraAdapterConfig.Read(adapterDirectory);
        string source = Path.Combine(adapterDirectory, LoraAdapterConfig.FileName);
        try { return (CreateModelOptions(lora, configuration, baseOptions), lora); }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message} Is the adapter for another base model{(lora.BaseModelNameOrPath is { } b ? $" (it names \"{b}\")" : "")}?", e);
        }
    }

    /// <summary>
    /// Loads the base weights of <paramref name="modelFile"/> into a model built with LoRA options: every
    /// tensor but the adapter's, checked as <see cref="CausalLanguageModels.LoadWeights"/> does (present,
    /// shaped, finite); the adapter tensors are left for <see cref="LoadInto"/> or <see cref="InitializeAdapter"/>.
    /// </summary>
    public static void LoadBaseWeights(ParameterSet parameters, object configuration, string modelFile)
    {
        using var file = SafetensorsFile.Open(modelFile);
        string prefix = Family(configuration).SequenceClassifier?.BodyPrefix ?? "";
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (s, i) in parameters.Specs.Select((s, i) => (s, i)))
        {
            if (IsAdapterTensor(s.Name)) continue;
            string? name = new[] { s.Name, prefix + s.Name }.FirstOrDefault(file.Tensors.ContainsKey);
            if (name is null)
            {
                if (s.Name.StartsWith("bert.pooler.", StringComparison.Ordinal)) continue;   // BERT checkpoints without a pooler, as BertModel.LoadWeights
                throw new InvalidDataException($"{modelFile}: no tensor \"{s.Name}\", which the config ({CausalLanguageModels.Describe(configuration)}) needs; config.json does not match the weights.");
            }
            file.ReadSingle(name, parameters.Value(i), s.Shape);
            loaded.Add(name);
        }
        ParameterCheck.EnsureFinite(parameters, modelFile);
    }

    private static bool IsAdapterTensor(string name) =>
        name.EndsWith(".lora_A.weight", StringComparison.Ordinal) || name.EndsWith(".lora_B.weight", StringComparison.Ordinal);

    /// <summary>
    /// Loads adapter_model.safetensors of <paramref name="adapterDirectory"/> into a model built with the
    /// options <see cref="Apply"/> returned: every lora_A/lora_B the targets need (shapes checked), and
    /// the biases and modules_to_save tensors the file holds. Errors name the file, the tensor and the fix.
    /// </summary>
    public static void LoadInto(ParameterSet parameters, object configuration, LoraOptions lora, string adapterDirectory)
    {
        string path = Path.Combine(adapterDirectory, WeightsFileName);
        if (!File.Exists(path))
            throw new FileNotFoundException(File.Exists(Path.Combine(adapterDirectory, "adapter_model.bin"))
                ? $"{adapterDirectory} holds adapter_model.bin (pickle), which Loom does not read; save the adapter with safe_serialization=True (PEFT's default) to get {WeightsFileName}."
                : $"{adapterDirectory} has no {WeightsFileName}.", path);
        using var file = SafetensorsFile.Open(path);
        var targets = FindTargets(lora, configuration);
        string prefix = Family(configuration).SequenceClassifier?.BodyPrefix ?? "";
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in targets)
            foreach (var (suffix, loomName) in new[] { (".lora_A.weight", t.AName), (".lora_B.weight", t.BName) })
            {
                string want = PeftPrefix + t.PeftPath + suffix;
                // Older PEFT releases kept the adapter name; accept "lora_A.default.weight" too.
                string? name = new[] { want, want.Replace(".weight", ".default.weight") }.FirstOrDefault(file.Tensors.ContainsKey)
                    ?? throw new InvalidDataException($"{path}: no tensor \"{want}\", which target_modules implies for this {CausalLanguageModels.Describe(configuration)} model; the adapter was made for another model or architecture. Use the base model it was trained on{(lora.BaseModelNameOrPath is { } b ? $" (\"{b}\")" : "")}.");
                int i = parameters.IndexOf(loomName);
                var entry = file.Get(name);
                var shape = parameters.Specs[i].Shape;
                if (!entry.Shape.SequenceEqual(shape))
                    throw new InvalidDataException($"{path}: tensor \"{name}\" has shape {entry.ShapeText}; this model needs [{string.Join(", ", shape)}] (r = {lora.Rank}, {t.Spec.InFeatures} in, {t.Spec.OutFeatures} out). The adapter was made for a model of another size, or adapter_config.json's r is wrong.");
                file.ReadSingle(name, parameters.Value(i), shape);
                used.Add(name);
            }
        foreach (var (name, entry) in file.Tensors)
        {
            if (used.Contains(name)) continue;
            if (!name.StartsWith(PeftPrefix, StringComparison.Ordinal))
                throw new InvalidDataException($"{path}: tensor \"{name}\" does not start with \"{PeftPrefix}\"; it is not a PEFT LoRA adapter file.");
            if (IsAdapterTensor(name) || name.Contains(".lora_", StringComparison.Ordinal))
                throw new InvalidDataException($"{path}: tensor \"{name}\" adapts a module that target_modules in {LoraAdapterConfig.FileName} does not select, or that this model does not have; the files disagree or the adapter is for another architecture.");
            // A bias or a modules_to_save tensor: the base tensor it replaces ("base_layer." as newer PEFT names it).
            string rest = name[PeftPrefix.Length..].Replace(".base_layer.", ".", StringComparison.Ordinal);
            string? loom = new[] { rest, rest.StartsWith(prefix, StringComparison.Ordinal) && prefix.Length > 0 ? rest[prefix.Length..] : null }
                .FirstOrDefault(n => n is not null && parameters.Specs.Any(s => s.Name == n));
            if (loom is null)
                throw new InvalidDataException($"{path}: tensor \"{name}\" names no parameter of this {CausalLanguageModels.Describe(configuration)} model; the adapter is for another architecture.");
            int i = parameters.IndexOf(loom);
            if (!entry.Shape.SequenceEqual(parameters.Specs[i].Shape))
                throw new InvalidDataException($"{path}: tensor \"{name}\" has shape {entry.ShapeText}; this model's \"{loom}\" is [{string.Join(", ", parameters.Specs[i].Shape)}].");
            file.ReadSingle(name, parameters.Value(i), parameters.Specs[i].Shape);
        }
        ParameterCheck.EnsureFinite(parameters, path);
    }

    /// <summary>
    /// A causal language model from <paramref name="modelDirectory"/> with the adapter of
    /// <paramref name="adapterDirectory"/> applied (<c>generate --adapter</c>); frozen unless
    /// <paramref name="options"/> says otherwise.
    /// </summary>
    public static ICausalLanguageModel LoadCausalLanguageModel(string modelDirectory, string adapterDirectory, ModelOptions? options = null, WorkerPool? pool = null)
    {
        var configuration = CausalLanguageModels.ReadConfig(modelDirectory);
        var (withLora, lora) = Apply(options ?? ModelOptions.Inference, configuration, adapterDirectory);
        var model = CausalLanguageModels.Create(configuration, withLora, pool);
        try
        {
            LoadBaseWeights(model.Parameters, configuration, Path.Combine(modelDirectory, "model.safetensors"));
            LoadInto(model.Parameters, configuration, lora, adapterDirectory);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// PEFT's merge_and_unload into a complete model directory: <paramref name="outputDirectory"/> gets
    /// config.json, the tokenizer and other files of <paramref name="modelDirectory"/>, and a
    /// model.safetensors with the base's tensor names and layout whose targeted weights are
    /// W + s·B·A (Conv1D layout: W + s·(B·A)ᵀ), plus the adapter's biases and modules_to_save tensors.
    /// </summary>
    public static void Merge(string modelDirectory, string adapterDirectory, string outputDirectory)
    {
        var configuration = CausalLanguageModels.ReadConfig(modelDirectory);
        var lora = LoraAdapterConfig.Read(adapterDirectory);
        using var model = LoadCausalLanguageModel(modelDirectory, adapterDirectory, ModelOptions.Inference);
        var p = model.Parameters;
        var targets = FindTargets(lora, configuration);
        float s = lora.Scaling;
        // The merged model is the base model's own family with no adapter tensors: built fresh, filled by name.
        using var merged = CausalLanguageModels.Create(configuration, ModelOptions.Inference);
        var q = merged.Parameters;
        foreach (var (spec, i) in q.Specs.Select((spec, i) => (spec, i))) p.Value(p.IndexOf(spec.Name)).CopyTo(q.Value(i));
        foreach (var t in targets)
        {
            string weight = q.Specs[t.Spec.WeightIndex].Name;
            if (weight != t.Path + ".weight")
                throw new NotSupportedException($"{Path.Combine(adapterDirectory, LoraAdapterConfig.FileName)}: {t.Path} shares its weight with \"{weight}\"; merging would change that tensor too. Keep the adapter separate (--adapter) instead of merging.");
            int inF = t.Spec.InFeatures, outF = t.Spec.OutFeatures, r = lora.Rank;
            ReadOnlySpan<float> a = p.Value(p.IndexOf(t.AName)), b = p.Value(p.IndexOf(t.BName));
            Span<float> w = q.Value(q.IndexOf(weight));
            // delta (out × in) = B (out × r) · A (r × in); stored as W (out, in) or, fan_in_fan_out, Wᵀ (in, out).
            if (t.Spec.Layout == ProjectionLayout.OutIn)
                Loom.Core.Kernels.Gemm.Sgemm(Loom.Core.Kernels.Transpose.No, Loom.Core.Kernels.Transpose.No, outF, inF, r, s, b, r, a, inF, 1f, w, inF);
            else
                Loom.Core.Kernels.Gemm.Sgemm(Loom.Core.Kernels.Transpose.Yes, Loom.Core.Kernels.Transpose.Yes, inF, outF, r, s, a, inF, b, r, 1f, w, outF);
        }
        if (Directory.Exists(outputDirectory))
        {
            if (Directory.EnumerateFileSystemEntries(outputDirectory).Any())
                throw new IOException($"Output directory {outputDirectory} exists and is not empty; choose a new --output directory or remove it.");
            Directory.Delete(outputDirectory);
        }
        string staging = outputDirectory.TrimEnd('/') + ".tmp-merge";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        merged.Save(staging);
        foreach (var f in Directory.EnumerateFiles(modelDirectory))
        {
            string name = Path.GetFileName(f);
            if (name is "model.safetensors" or "config.json") continue;
            File.Copy(f, Path.Combine(staging, name));
        }
        DurableFile.SyncDirectory(staging);
        DurableFile.MoveDirectory(staging, outputDirectory);
    }
}
