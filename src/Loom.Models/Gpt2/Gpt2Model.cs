// GPT-2 (Radford et al. 2019) with explicit forward and backward passes, after karpathy/llm.c.
// Parameters use Hugging Face's names and GPT-2's Conv1D layout (weights (in, out)), so a
// model.safetensors from the Hub loads as is. Activations for a (B, T) batch are planned into one
// block before the first step; a new (B, T) is an explicit Plan call, never an allocation per step.
// Every weight matmul is an IProjection chosen by module path when the model is built
// (ModelOptions.Projections); the body ends at ln_f, the tied LM head and the loss sit on top.
//
// forward:  x = wte[ids] + wpe[t]
//           per layer: h = ln_1(x); qkv = h·W_attn + b; y = attention(qkv); x = x + y·W_proj + b
//                      h = ln_2(x); f = gelu(h·W_fc + b); x = x + f·W_mproj + b
//           (training with hidden dropout p: x = drop(wte[ids] + wpe[t]) and each branch is dropped
//            before its residual add, as HF's embd_pdrop and resid_pdrop)
//           hidden = ln_f(x)                                          (the body ends here)
//           logits = hidden·wteᵀ (tied head); loss = mean cross-entropy over targets ≠ −100
// backward: the same lines in exact reverse.
//
// Built as a tensor-parallel shard (ModelOptions.TensorParallel, Megatron-LM §3) the model holds
// NH/N heads (c_attn's q, k and v columns of those heads, c_proj's matching rows) and 4C/N MLP units;
// its projections carry the all-reduces. Built as a pipeline stage (ModelOptions.Stage, GPipe) it
// holds only its layers — the embeddings on the first stage, ln_f and the tied head on the last —
// and exchanges hidden states through IPipelineStageModel.
using Loom.Core.Diagnostics;
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Plans;
using Loom.Models.Formats;
using Loom.Models.Heads;
using Loom.Models.Losses;
using Loom.Models.Parameters;
using Loom.Models.Projections;
using Loom.Models.Parallel;
using Loom.Models.Regularization;

namespace Loom.Models.Gpt2;

/// <summary>A GPT-2 language model with training support.</summary>
public sealed partial class Gpt2Model : ICausalLanguageModel, IHiddenStateModel, IIncrementalDecoder, ITrainingMode, ILogitsBackward, IWordEmbeddingGradient, ILayerHooks, IPipelineStageModel, ISelectedLogits
{
    /// <inheritdoc/>
    public ILayerObserver? LayerObserver { get; set; }

    /// <inheritdoc/>
    public int LayerCount => _layerCount;   // a pipeline stage's own layers

    /// <inheritdoc/>
    public IReadOnlyList<int> LayerParameters(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, _layerCount);
        string prefix = $"h.{_stage.FirstLayer + layer}.";
        return Enumerable.Range(0, Parameters.Specs.Count).Where(i => Parameters.Specs[i].Name.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
    }

    private readonly WorkerPool _pool;

    // The part of the model this instance holds: whole by default, a tensor-parallel shard
    // (heads and MLP units), a pipeline stage (layers), or both.
    private readonly TensorParallelShard? _shard;
    private readonly PipelineStage _stage;
    private readonly int _heads;      // attention heads held here: n_head / N
    private readonly int _attnWidth;  // their channels: n_embd / N
    private readonly int _mlpWidth;   // MLP units held here: 4·n_embd / N
    private readonly int _layerCount; // layers held here (the stage's)

    // Parameter indexes into Parameters (shape comments as in HF's GPT-2).
    private readonly int _wte;   // (V, C); −1 on a middle pipeline stage
    private readonly int _wpe;   // (maxT, C); −1 past the first stage
    private readonly int _lnfW, _lnfB; // (C); −1 before the last stage
    private readonly LayerIndex[] _layers;
    private readonly LanguageModelHead? _head;  // logits = hidden·wteᵀ (path "lm_head", tied to wte); null for a body (ModelOptions.HiddenStatesOnly)
    private LanguageModelHead Head => _head ?? throw new InvalidOperationException(
        "This GPT-2 was built as a body for hidden states (ModelOptions.HiddenStatesOnly, as a sequence classifier builds it): it has no LM head and computes no logits.");
    private readonly DropoutOptions _dropout;

    private sealed record LayerIndex(
        int Ln1W, int Ln1B,        // (C)
        IProjection Attn,          // c_attn: (C, 3C) + (3C)
        IProjection Proj,          // attn.c_proj: (C, C) + (C)
        int Ln2W, int Ln2B,        // (C)
        IProjection Fc,            // c_fc: (C, 4C) + (4C)
        IProjection Mproj);        // mlp.c_proj: (4C, C) + (C)

    /// <summary>The configuration.</summary>
    public Gpt2Config Config { get; }

    /// <inheritdoc/>
    public object Configuration => Config;

    /// <inheritdoc/>
    public int VocabularySize => Config.VocabSize;

    /// <inheritdoc/>
    public int ContextLength => Config.MaxPositions;

    /// <inheritdoc/>
    public int HiddenSize => Config.Embedding;

    /// <summary>Parameters and their gradients.</summary>
    public ParameterSet Parameters { get; }

    // Plans of the shapes seen so far (length-bucketed batches switch between a few (B, T)).
    private readonly ActivationPlanCache<Gpt2Activations> _plans;
    private Gpt2Activations? Acts => _plans.Current;

    /// <summary>Creates a trainable model with zeroed parameters (load or initialise them next).</summary>
    public Gpt2Model(Gpt2Config config, WorkerPool? pool = null) : this(config, ModelOptions.Default, pool) { }

    /// <summary>Creates a model with zeroed parameters, roles and projections chosen by <paramref name="options"/>.</summary>
    public Gpt2Model(Gpt2Config config, ModelOptions options, WorkerPool? pool = null)
    {
        config.Validate();
        Config = config;
        _pool = pool ?? WorkerPool.Shared;
        options.Dropout.Validate();
        _dropout = options.Dropout;
        bool hiddenOnly = options.HiddenStatesOnly;
        int V = config.VocabSize, C = config.Embedding;
        _shard = options.TensorParallel;
        _shard?.Validate(config.Heads, "n_head", 4 * C, "4·n_embd");
        _stage = options.Stage ?? new PipelineStage(0, config.Layers, config.Layers);
        _stage.Validate(config.Layers, "n_layer");
        if (options.Stage is { IsLast: false } && options.HiddenStatesOnly)
            throw new ArgumentException("A pipeline stage before the last has no final norm to read hidden states from; build the body as the last stage (ModelOptions.Stage) or whole.");
        if (_shard is not null && options.Dropout.Attention > 0)
            throw new NotSupportedException($"attn_pdrop = {options.Dropout.Attention} with tensor parallelism: attention-probability masks are drawn per head and would differ from the single-rank model's; set attention dropout to 0.");
        int n = _shard?.Size ?? 1;
        _heads = config.Heads / n; _attnWidth = C / n; _mlpWidth = 4 * C / n; _layerCount = _stage.LayerCount;
        _plans = new ActivationPlanCache<Gpt2Activations>((b, t) => new Gpt2Activations(Config, b, t, _checkpointing, _dropout.Hidden > 0, attentionDropout: _dropout.Attention > 0, logits: !hiddenOnly && _stage.IsLast,
            widths: new Gpt2Widths(_layerCount, _heads, _attnWidth, _mlpWidth)), options.Stage is null ? 16 : 64);
        Parameters = new ParameterSet(ParameterSpecs(config, _shard, _stage).Concat(options.HeadParameters), options.Trainable);
        _wte = _stage.IsFirst || _stage.IsLast ? Parameters.IndexOf("wte.weight") : -1;
        _wpe = _stage.IsFirst ? Parameters.IndexOf("wpe.weight") : -1;
        _lnfW = _stage.IsLast ? Parameters.IndexOf("ln_f.weight") : -1;
        _lnfB = _stage.IsLast ? Parameters.IndexOf("ln_f.bias") : -1;
        _layers = new LayerIndex[_layerCount];
        for (int l = 0; l < _layerCount; l++)
        {
            string h = $"h.{_stage.FirstLayer + l}.";
            int I(string n) => Parameters.IndexOf(h + n);
            IProjection Conv(string module, int inF, int outF) =>
                options.Project(new ProjectionSpec(h + module, ProjectionLayout.InOut, inF, outF, I(module + ".weight"), I(module + ".bias")), Parameters, _pool);
            _layers[l] = new LayerIndex(I("ln_1.weight"), I("ln_1.bias"), Conv("attn.c_attn", C, 3 * _attnWidth), Conv("attn.c_proj", _attnWidth, C),
                I("ln_2.weight"), I("ln_2.bias"), Conv("mlp.c_fc", C, _mlpWidth), Conv("mlp.c_proj", _mlpWidth, C));
        }
        if (!options.HiddenStatesOnly && _stage.IsLast) _head = new LanguageModelHead(options.Project(new ProjectionSpec("lm_head", ProjectionLayout.OutIn, C, V, _wte), Parameters, _pool));
    }

    // The parameter tensors of a configuration, in block order (HF names, shapes as HF's GPT-2).
    internal static List<(string, long[], bool)> ParameterSpecs(Gpt2Config config) => ParameterSpecs(config, null, null);

    // The tensors a shard and/or stage holds: c_attn's columns and c_proj's rows of its heads, its
    // MLP units; its layers, the embeddings on the first stage, ln_f and the tied wte on the last.
    internal static List<(string, long[], bool)> ParameterSpecs(Gpt2Config config, TensorParallelShard? shard, PipelineStage? stage)
    {
        long V = config.VocabSize, C = config.Embedding, P = config.MaxPositions;
        int n = shard?.Size ?? 1;
        long A = C / n, M = 4 * C / n;
        stage ??= new PipelineStage(0, config.Layers, config.Layers);
        var specs = new List<(string, long[], bool)>();
        if (stage.IsFirst || stage.IsLast) specs.Add(("wte.weight", [V, C], false));
        if (stage.IsFirst) specs.Add(("wpe.weight", [P, C], false));
        for (int l = stage.FirstLayer; l < stage.FirstLayer + stage.LayerCount; l++)
        {
            string h = $"h.{l}.";
            specs.AddRange(new (string, long[], bool)[]
            {
                (h + "ln_1.weight", [C], false), (h + "ln_1.bias", [C], false),
                (h + "attn.c_attn.weight", [C, 3 * A], true), (h + "attn.c_attn.bias", [3 * A], false),
                (h + "attn.c_proj.weight", [A, C], true), (h + "attn.c_proj.bias", [C], false),
                (h + "ln_2.weight", [C], false), (h + "ln_2.bias", [C], false),
                (h + "mlp.c_fc.weight", [C, M], true), (h + "mlp.c_fc.bias", [M], false),
                (h + "mlp.c_proj.weight", [M, C], true), (h + "mlp.c_proj.bias", [C], false),
            });
        }
        if (stage.IsLast)
        {
            specs.Add(("ln_f.weight", [C], false));
            specs.Add(("ln_f.bias", [C], false));
        }
        return specs;
    }

    /// <summary>
    /// GPT-2's tensor-parallel cut (Megatron-LM §3) in Conv1D's (in, out) layout: c_attn and c_fc by
    /// output columns (c_attn's q | k | v as 3 groups, so a rank gets whole heads), attention and MLP
    /// c_proj by input rows; everything else — embeddings, LayerNorms, c_proj biases — replicated.
    /// </summary>
    public static TensorSplit? TensorParallelSplit(string parameterName) => parameterName switch
    {
        _ when parameterName.EndsWith(".attn.c_attn.weight", StringComparison.Ordinal) => new TensorSplit(1, 3),
        _ when parameterName.EndsWith(".attn.c_attn.bias", StringComparison.Ordinal) => new TensorSplit(0, 3),
        _ when parameterName.EndsWith(".mlp.c_fc.weight", StringComparison.Ordinal) => new TensorSplit(1),
        _ when parameterName.EndsWith(".mlp.c_fc.bias", StringComparison.Ordinal) => new TensorSplit(0),
        _ when parameterName.EndsWith(".attn.c_proj.weight", StringComparison.Ordinal) || parameterName.EndsWith(".mlp.c_proj.weight", StringComparison.Ordinal) => new TensorSplit(0),
        _ => null,
    };

    /// <summary>
    /// Bytes that a model of <paramref name="config"/> would take, without allocating anything: the
    /// parameter block, and the activation block planned for <paramref name="batch"/> × <paramref name="time"/>
    /// (the same <see cref="Gpt2Activations"/> plan training allocates, made plan-only; with
    /// <paramref name="dropout"/> its mask regions too).
    /// </summary>
    public static ModelMemory PlanMemory(Gpt2Config config, int batch, int time, bool activationCheckpointing, bool dropout = false)
    {
        config.Validate();
        double bt = (double)Math.Max(0, batch) * Math.Max(0, time);
        double parameters = ModelMemory.LinearInLayers(config.Layers, l => ParameterSet.PlanFloats(ParameterSpecs(config with { Layers = l }))) * sizeof(float);
        // Past ~2⁵⁸ bytes the long arithmetic of a plan would overflow; no machine has that much anyway.
        double activations = bt == 0 ? 0
            : bt * ((double)config.VocabSize + 34.0 * config.Embedding * config.Layers + (double)config.Heads * time * config.Layers) > 1e16 ? double.PositiveInfinity
            : ModelMemory.LinearInLayers(config.Layers, l => new Gpt2Activations(config with { Layers = l }, batch, time, activationCheckpointing, dropout, allocate: false).Bytes);
        return new ModelMemory(parameters, (double)config.VocabSize * config.Embedding * sizeof(float), activations, bt * config.VocabSize * sizeof(float));
    }

    /// <summary>GPT-2's initialisation: N(0, 0.02) weights, N(0, 0.02/√(2L)) on residual projections, LayerNorm 1/0, biases 0.</summary>
    public void InitializeWeights(int seed)
    {
        var rng = new Random(seed);
        float residualStd = 0.02f / MathF.Sqrt(2 * Config.Layers);
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
        {
            var v = Parameters.Value(i);
            if (spec.Name.Contains("ln_") && spec.Name.EndsWith(".weight")) v.Fill(1f);
            else if (spec.Shape.Length == 1) v.Clear();
            else
            {
                float std = spec.Name.EndsWith("c_proj.weight") ? residualStd : 0.02f;
                for (int j = 0; j < v.Length; j++) v[j] = std * Gaussian(rng);
            }
        }
    }

    internal static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>Loads weights from a safetensors file with HF names (an optional "transformer." prefix is accepted).</summary>
    public void LoadWeights(SafetensorsFile file, string prefix = "")
    {
        if (prefix.Length == 0 && !file.Tensors.ContainsKey("wte.weight") && file.Tensors.ContainsKey("transformer.wte.weight")) prefix = "transformer.";
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
            if (!Parameters.IsHeldByProjection(i)) file.ReadSingle(prefix + spec.Name, Parameters.Value(i), spec.Shape);
    }

    /// <summary>Saves weights (HF names) and config.json into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var items = Parameters.Specs.Select((s, i) => new SafetensorsWriter.Item(s.Name, s.Shape, Parameters.Value(i).ToArray())).ToList();
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), items, new Dictionary<string, string> { ["format"] = "pt" });
        Config.Save(Path.Combine(directory, "config.json"));
    }

    /// <summary>
    /// Activation checkpointing per block (Chen et al. 2016, "Training Deep Nets with Sublinear Memory
    /// Cost"): keep only each block's output, compute the rest of a block's activations into one shared
    /// scratch, and recompute them just before that block's backward. Less memory for one extra forward.
    /// </summary>
    public bool ActivationCheckpointing
    {
        get => _checkpointing;
        set
        {
            if (value == _checkpointing) return;
            _checkpointing = value;
            DisposePlans();
        }
    }

    private bool _checkpointing;

    /// <inheritdoc/>
    public bool IsTraining { get; set; }

    /// <inheritdoc/>
    public ulong DropoutStep { get; set; }

    /// <summary>Frees every planned activation block (the next Forward plans again).</summary>
    public void DisposePlans() => _plans.Clear();

    /// <summary>Bytes of the current activation block (0 before the first Plan).</summary>
    public long ActivationBytes => Acts?.Bytes ?? 0;

    /// <summary>Plans activations for batches of <paramref name="batch"/> × <paramref name="time"/>; cheap when unchanged.</summary>
    public void Plan(int batch, int time)
    {
        if (time > Config.MaxPositions) throw new ArgumentException($"Sequence length {time} exceeds n_positions {Config.MaxPositions}.");
        _plans.Use(batch, time, _slot);
    }

    private int _slot;

    /// <inheritdoc/>
    public PipelineStage Stage => _stage;

    /// <inheritdoc/>
    public int ActivationSlot
    {
        get => _slot;
        set
        {
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "An activation slot is 0 or more.");
            _slot = value;
            if (Acts is { } a) _plans.Use(a.B, a.T, _slot);   // a backward runs on the slot's own activations
        }
    }

    /// <inheritdoc/>
    public Span<float> StageInput(int batch, int time)
    {
        if (_stage.IsFirst) throw new InvalidOperationException("The first pipeline stage reads token ids, not hidden states: it has no stage input.");
        Plan(batch, time);
        return Acts![Acts.Encoded];
    }

    /// <inheritdoc/>
    public ReadOnlySpan<float> StageOutput => Acts is { } a ? a[a.Layers[_layerCount - 1].Residual3] : throw new InvalidOperationException("Run a forward first.");

    /// <inheritdoc/>
    public ReadOnlySpan<float> StageInputGradient => Acts is { } a ? a[a.DResidual] : throw new InvalidOperationException("Run a backward first.");

    /// <inheritdoc/>
    public IReadOnlyList<string> SharedAcrossStages => _stage.IsFirst != _stage.IsLast ? ["wte.weight"] : [];

    // Decoding with a KV cache runs every layer and every head in this process.
    private void RequireWholeModel(string what)
    {
        if (_shard is not null || !_stage.IsFirst || !_stage.IsLast)
            throw new NotSupportedException($"{what} needs the whole model; this one is a tensor-parallel shard or a pipeline stage (built for training).");
    }

    /// <summary>
    /// Runs the body: ln_f of the last block's output, (B·T, C), valid until the next forward (a
    /// pipeline stage before the last returns its last layer's output instead).
    /// </summary>
    public ReadOnlySpan<float> ForwardHidden(in TokenBatch batch)
    {
        batch.RequireRightPadding("GPT-2");
        Plan(batch.Batch, batch.Time);
        var a = Acts!;
        int B = batch.Batch, T = batch.Time, C = Config.Embedding;
        var ids = batch.Ids;
        var p = Parameters;
        var shape = new AttentionShape(B, T, _attnWidth, _heads);
        a.HasTargets = false;
        LayerObserver?.BeforeForward();

        // x = wte[ids] + wpe[0..T), or wpe[position_ids] for packed documents (a later pipeline stage: x is what StageInput received)
        ids.CopyTo(a.Ids);
        a.Packed = batch.DocumentLayout(a.Positions, a.FirstKey, "GPT-2");
        var encoded = a[a.Encoded];
        a.Dropped = IsTraining && _dropout.Hidden > 0;
        a.AttentionDropped = IsTraining && _dropout.Attention > 0;
        if (_stage.IsFirst)
        {
            using var _ = OpProfiler.Op("embedding", "fwd wte+wpe");
            Embedding.Forward(ids, p.Value(_wte), C, encoded, _pool);
            _wordPath.Scale(encoded, B, T, C);   // α·wte[ids] (IWordEmbeddingGradient; no-op unless set)
            var wpe = p.Value(_wpe);
            if (a.Packed)
                for (int bt = 0; bt < B * T; bt++)
                    System.Numerics.Tensors.TensorPrimitives.Add(encoded.Slice(bt * C, C), wpe.Slice(a.Positions[bt] * C, C), encoded.Slice(bt * C, C));
            else
                for (int b = 0; b < B; b++)
                    Arithmetic.Add(encoded.Slice(b * T * C, T * C), wpe[..(T * C)], encoded.Slice(b * T * C, T * C), _pool);
        }
        if (a.Dropped && _stage.IsFirst)
        {
            Dropout.FillMask(a[a.EmbMask], _dropout.Hidden, _dropout.Seed, Dropout.Stream(DropoutStep, -1, 0));
            Dropout.Apply(encoded, a[a.EmbMask]);
        }

        Span<float> x = encoded;
        var observer = LayerObserver;
        for (int l = 0; l < _layerCount; l++)
        {
            observer?.BeforeLayerForward(l);
            ForwardLayer(a, l, x, shape);
            observer?.AfterLayerForward(l);
            x = a[a.Layers[l].Residual3];
        }
        if (!_stage.IsLast) return x;   // a pipeline stage's output: the residual stream after its last layer
        using (OpProfiler.Op("elementwise", "fwd ln_f"))
            LayerNorm.Forward(x, p.Value(_lnfW), p.Value(_lnfB), a[a.Lnf], a[a.LnfMean], a[a.LnfRstd], C, Config.LayerNormEpsilon, _pool);
        return a[a.Lnf];
    }

    /// <summary>
    /// Runs the forward pass on <paramref name="ids"/> (B·T). With <paramref name="targets"/> returns the mean
    /// loss over targets ≠ −100; otherwise NaN. Logits stay readable through <see cref="Logits"/>.
    /// </summary>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time) => Forward(new TokenBatch(ids, batch, time), targets);

    /// <summary>The forward pass on a batch that may pack documents (<see cref="TokenBatch.PositionIds"/>); as <see cref="Forward(ReadOnlySpan{int}, ReadOnlySpan{int}, int, int)"/>.</summary>
    public float Forward(in TokenBatch batch, ReadOnlySpan<int> targets)
    {
        long BT = (long)batch.Batch * batch.Time;
        if (!targets.IsEmpty && targets.Length != BT) throw new ArgumentException($"targets has {targets.Length} elements; B×T = {BT}.");
        var head = Head;   // a body built for hidden states has none: refuse before computing anything
        var hidden = ForwardHidden(batch);
        var a = Acts!;
        using (OpProfiler.Op("gemm", "fwd lm_head"))
            head.Forward(hidden, a[a.Logits], (int)BT);
        a.HasTargets = !targets.IsEmpty;
        if (!a.HasTargets) return float.NaN;
        targets.CopyTo(a.Targets);
        using var _ = OpProfiler.Op("cross-entropy", "fwd loss");
        return CrossEntropyLoss.Forward(a[a.Logits], targets, Config.VocabSize, a[a.Losses], _pool);
    }

    // One block: x → Residual3 of layer l, saving the block's activations in a.Layers[l].
    private void ForwardLayer(Gpt2Activations a, int l, ReadOnlySpan<float> x, AttentionShape shape)
    {
        var p = Parameters;
        var L = _layers[l];
        var s = a.Layers[l];
        int C = Config.Embedding, BT = a.B * a.T;
        float eps = Config.LayerNormEpsilon;
        using (OpProfiler.Op("elementwise", "fwd ln_1"))
            LayerNorm.Forward(x, p.Value(L.Ln1W), p.Value(L.Ln1B), a[s.Ln1], a[s.Ln1Mean], a[s.Ln1Rstd], C, eps, _pool);
        using (OpProfiler.Op("gemm", "fwd c_attn"))
            L.Attn.Forward(a[s.Ln1], a[a.Qkv], BT);
        if (a.AttentionDropped) Dropout.FillMask(a[s.MaskProbs], _dropout.Attention, _dropout.Seed, Dropout.Stream(DropoutStep, _stage.FirstLayer + l, 3));
        using (OpProfiler.Op("attention", "fwd attention"))
            Attention.Forward(a[a.Qkv], a[s.AttY], a[s.Q], a[s.K], a[s.V], a[s.Att], a[a.H0], shape, _pool,
                a.AttentionDropped ? new AttentionDropout(a[s.MaskProbs], a[a.ProbsDropped]) : default, a.DocumentStarts);
        // x + drop(y·W_proj + b), the mask regenerated identically when checkpointing recomputes the block
        using (OpProfiler.Op("gemm", "fwd attn.c_proj + residual"))
            ResidualBranch.Forward(L.Proj, a[s.AttY], x, a[s.Residual2], BT, a.Dropped, a[s.MaskAttn], a[a.Branch], _dropout, Dropout.Stream(DropoutStep, _stage.FirstLayer + l, 1), _pool);
        using (OpProfiler.Op("elementwise", "fwd ln_2"))
            LayerNorm.Forward(a[s.Residual2], p.Value(L.Ln2W), p.Value(L.Ln2B), a[s.Ln2], a[s.Ln2Mean], a[s.Ln2Rstd], C, eps, _pool);
        using (OpProfiler.Op("gemm", "fwd c_fc"))
            L.Fc.Forward(a[s.Ln2], a[s.Fch], BT);
        using (OpProfiler.Op("elementwise", "fwd gelu"))
            Activations.GeluForward(a[s.Fch], a[s.FchGelu], _pool);
        using (OpProfiler.Op("gemm", "fwd mlp.c_proj + residual"))
            ResidualBranch.Forward(L.Mproj, a[s.FchGelu], a[s.Residual2], a[s.Residual3], BT, a.Dropped, a[s.MaskMlp], a[a.Branch], _dropout, Dropout.Stream(DropoutStep, _stage.FirstLayer + l, 2), _pool);
    }

    /// <inheritdoc/>
    public void ForwardSelected(in TokenBatch batch, ReadOnlySpan<int> rows, Span<float> logits)
    {
        RequireWholeModel("Scoring selected positions");
        var head = Head;   // a body built for hidden states has none: refuse before computing anything
        if (logits.Length < (long)rows.Length * Config.VocabSize) throw new ArgumentException($"logits has {logits.Length} floats; {rows.Length} rows × vocab {Config.VocabSize} need {(long)rows.Length * Config.VocabSize}.");
        var hidden = ForwardHidden(batch);
        head.ForwardSelected(hidden, Config.Embedding, rows, logits[..(rows.Length * Config.VocabSize)]);
    }

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    public ReadOnlySpan<float> Logits => Acts is { } a ? a[a.Logits] : throw new InvalidOperationException("Run Forward first.");

    /// <summary>
    /// Adds the gradient of (<paramref name="lossScale"/> × the last forward's mean loss) to the trainable
    /// parameters' gradients. Overwrites the logits with their gradient.
    /// </summary>
    public void Backward(float lossScale = 1f)
    {
        var a = Acts ?? throw new InvalidOperationException("Run Forward with targets before Backward.");
        if (!a.HasTargets) throw new InvalidOperationException("Backward needs the last Forward to have had targets.");
        Parameters.EnsureGradients();
        int BT = a.B * a.T;
        // dlogits, in place over the logits
        using (OpProfiler.Op("cross-entropy", "bwd softmax+loss"))
            CrossEntropyLoss.Backward(a[a.Logits], a.Targets, Config.VocabSize, a[a.Losses], lossScale, _pool);
        // logits = hidden·wteᵀ
        using (OpProfiler.Op("gemm", "bwd lm_head"))
            Head.Backward(a[a.Logits], a[a.Lnf], a[a.DLn], BT);
        BackwardHidden(a[a.DLn]);
    }

    /// <inheritdoc/>
    public Span<float> MutableLogits => Acts is { } a ? a[a.Logits] : throw new InvalidOperationException("Run Forward first.");

    /// <inheritdoc/>
    public void BackwardFromLogits()
    {
        var a = Acts ?? throw new InvalidOperationException("Run Forward before BackwardFromLogits.");
        Parameters.EnsureGradients();
        Head.Backward(a[a.Logits], a[a.Lnf], a[a.DLn], a.B * a.T);
        BackwardHidden(a[a.DLn]);
    }

    /// <inheritdoc/>
    public void BackwardHidden(ReadOnlySpan<float> hiddenGradient)
    {
        var a = Acts ?? throw new InvalidOperationException("Run a forward pass before the backward.");
        Parameters.EnsureGradients();
        int B = a.B, T = a.T, C = Config.Embedding, BT = B * T;
        if (hiddenGradient.Length != (long)BT * C) throw new ArgumentException($"The hidden-state gradient has {hiddenGradient.Length} elements; B·T·C = {(long)BT * C}.");
        var p = Parameters;
        var shape = new AttentionShape(B, T, _attnWidth, _heads);
        var dres = a[a.DResidual];
        var dln = a[a.DLn];

        // hidden = ln_f(x_L)   (a pipeline stage before the last: the gradient is x_L's already)
        Span<float> xL = _layerCount > 0 ? a[a.Layers[_layerCount - 1].Residual3] : a[a.Encoded];
        if (_stage.IsLast)
            using (OpProfiler.Op("elementwise", "bwd ln_f"))
                LayerNorm.Backward(hiddenGradient, xL, p.Value(_lnfW), a[a.LnfMean], a[a.LnfRstd], dres, p.GradientOrDiscard(_lnfW), p.GradientOrDiscard(_lnfB), C, false, _pool);
        else hiddenGradient.CopyTo(dres);

        var observer = LayerObserver;
        for (int l = _layerCount - 1; l >= 0; l--)
        {
            observer?.BeforeLayerBackward(l);
            var L = _layers[l];
            Span<float> input = l == 0 ? a[a.Encoded] : a[a.Layers[l - 1].Residual3];
            if (_checkpointing) ForwardLayer(a, l, input, shape); // rebuild this block's activations in the scratch
            var s = a.Layers[l];
            // x = x + gelu(ln_2(x)·W_fc + b)·W_mproj + b   (the branch's gradient through its dropout mask)
            if (a.Dropped) Dropout.Apply(dres, a[s.MaskMlp], a[a.Branch]);
            using (OpProfiler.Op("gemm", "bwd mlp.c_proj"))
                L.Mproj.Backward(a.Dropped ? a[a.Branch] : dres, a[s.FchGelu], a[a.DFch], BT);
            using (OpProfiler.Op("elementwise", "bwd gelu"))
                Activations.GeluBackward(a[s.Fch], a[a.DFch], a[a.DFch], _pool);
            using (OpProfiler.Op("gemm", "bwd c_fc"))
                L.Fc.Backward(a[a.DFch], a[s.Ln2], dln, BT);
            using (OpProfiler.Op("elementwise", "bwd ln_2 + residual"))
                LayerNorm.Backward(dln, a[s.Residual2], p.Value(L.Ln2W), a[s.Ln2Mean], a[s.Ln2Rstd], dres, p.GradientOrDiscard(L.Ln2W), p.GradientOrDiscard(L.Ln2B), C, accumulate: true, _pool);
            // x = x + attention(ln_1(x)·W_attn + b)·W_proj + b
            if (a.Dropped) Dropout.Apply(dres, a[s.MaskAttn], a[a.Branch]);
            using (OpProfiler.Op("gemm", "bwd attn.c_proj"))
                L.Proj.Backward(a.Dropped ? a[a.Branch] : dres, a[s.AttY], a[a.DAttY], BT);
            using (OpProfiler.Op("attention", "bwd attention"))
                Attention.Backward(a[a.DAttY], a[s.Q], a[s.K], a[s.V], a[s.Att], a[a.DQkv], a[a.H0], a[a.H1], a[a.H2], a[a.H3], a[a.DAtt], shape, _pool,
                    a.AttentionDropped ? new AttentionDropout(a[s.MaskProbs], a[a.ProbsDropped]) : default);
            using (OpProfiler.Op("gemm", "bwd c_attn"))
                L.Attn.Backward(a[a.DQkv], a[s.Ln1], dln, BT);
            using (OpProfiler.Op("elementwise", "bwd ln_1 + residual"))
                LayerNorm.Backward(dln, input, p.Value(L.Ln1W), a[s.Ln1Mean], a[s.Ln1Rstd], dres, p.GradientOrDiscard(L.Ln1W), p.GradientOrDiscard(L.Ln1B), C, accumulate: true, _pool);
            observer?.AfterLayerBackward(l);
        }
        if (a.Dropped || a.AttentionDropped) DropoutStep++;   // the next training forward draws new masks
        if (!_stage.IsFirst) { observer?.AfterBackward(); return; }   // dres is the stage input's gradient (StageInputGradient)
        // x = drop(wte[ids] + wpe[t])
        if (a.Dropped) Dropout.Apply(dres, a[a.EmbMask]);
        _wordPath.Capture(dres, BT * C);   // x = α·wte[ids] + wpe: d(x) is the word rows' gradient
        using var _ = OpProfiler.Op("embedding", "bwd wte+wpe");
        if (p.IsTrainable(_wte)) Embedding.Backward(a.Ids, dres, p.Gradient(_wte), C, _pool);
        if (p.IsTrainable(_wpe) && a.Packed) Embedding.Backward(a.Positions, dres, p.Gradient(_wpe), C, _pool);   // wpe[position_ids]
        else if (p.IsTrainable(_wpe))
        {
            var dwpe = p.Gradient(_wpe);
            for (int b = 0; b < B; b++)
                Arithmetic.Add(dwpe[..(T * C)], dres.Slice(b * T * C, T * C), dwpe[..(T * C)], _pool);
        }
        observer?.AfterBackward();
    }

    private readonly WordEmbeddingPath _wordPath = new();

    /// <inheritdoc/>
    public void SetWordEmbeddingScales(ReadOnlySpan<float> perSequence) => _wordPath.SetScales(perSequence);

    /// <inheritdoc/>
    public bool KeepWordEmbeddingGradient { get => _wordPath.KeepGradient; set => _wordPath.KeepGradient = value; }

    /// <inheritdoc/>
    public ReadOnlySpan<float> WordEmbeddingGradient => _wordPath.Gradient;

    /// <inheritdoc/>
    public void WordEmbeddings(ReadOnlySpan<int> ids, Span<float> rows) => Embedding.Forward(ids, Parameters.Value(_wte), Config.Embedding, rows, _pool);

    public void Dispose()
    {
        DisposePlans();
        _paged.Dispose();
        foreach (var L in _layers)
        {
            L.Attn.Dispose(); L.Proj.Dispose(); L.Fc.Dispose(); L.Mproj.Dispose();
        }
        _head?.Dispose();
        Parameters.Dispose();
    }
}
