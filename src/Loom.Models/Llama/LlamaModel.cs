// Llama (Touvron et al. 2023) with explicit forward and backward passes, in the shape of the GPT-2
// model: parameters with Hugging Face's names and nn.Linear (out, in) layout, one planned block of
// activations per (B, T). Every weight matmul, lm_head included, is an IProjection chosen by module
// path when the model is built; the body ends at the final RMSNorm, the LM head and loss sit on top.
//
// forward:  x = embed[ids]
//           per layer: h = rmsnorm(x)·w; q, k, v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ; q, k = rope(q), rope(k)
//                      y = attention(q, k repeated to every query head, v likewise); x = x + y·Woᵀ
//                      h = rmsnorm(x)·w; x = x + (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ      (SwiGLU, Shazeer 2020)
//           hidden = rmsnorm(x)·w                                      (the body ends here)
//           logits = hidden·W_headᵀ (untied); loss = mean cross-entropy over targets ≠ −100
// backward: the same lines in exact reverse.
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Plans;
using Loom.Models.Formats;
using Loom.Models.Heads;
using Loom.Models.Losses;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Models.Llama;

/// <summary>A Llama causal language model with training support.</summary>
public sealed partial class LlamaModel : ICausalLanguageModel, IHiddenStateModel, ILogitsBackward, IWordEmbeddingGradient, ISelectedLogits
{
    private readonly WorkerPool _pool;
    private readonly int _embed, _norm;   // (V, C), (C)
    private readonly LanguageModelHead? _head;  // lm_head: (V, C); null for a body (ModelOptions.HiddenStatesOnly)
    private readonly bool _hiddenOnly;
    private LanguageModelHead Head => _head ?? throw new InvalidOperationException(
        "This Llama was built as a body for hidden states (ModelOptions.HiddenStatesOnly, as a sequence classifier builds it): it has no lm_head and computes no logits.");
    private readonly LayerIndex[] _layers;
    private readonly ActivationPlanCache<LlamaActivations> _plans;
    private LlamaActivations? Acts => _plans.Current;

    private sealed record LayerIndex(
        int InNorm,                                          // (C)
        IProjection Q, IProjection K, IProjection V, IProjection O, // (NH·hd, C), (NKV·hd, C), (NKV·hd, C), (C, NH·hd)
        int PostNorm,                                        // (C)
        IProjection Gate, IProjection Up, IProjection Down); // (I, C), (I, C), (C, I)

    public LlamaConfig Config { get; }

    /// <inheritdoc/>
    public object Configuration => Config;

    /// <inheritdoc/>
    public int VocabularySize => Config.VocabSize;

    /// <inheritdoc/>
    public int ContextLength => Config.MaxPositions;

    /// <summary>
    /// Activation checkpointing per block (Chen et al. 2016): keep only each block's output, compute
    /// the rest into one shared scratch layer and recompute it just before that block's backward.
    /// </summary>
    public bool ActivationCheckpointing
    {
        get => _checkpointing;
        set
        {
            if (value == _checkpointing) return;
            _checkpointing = value;
            _plans.Clear();
        }
    }

    private bool _checkpointing;

    /// <summary>N(0, 0.02) for every matrix (HF's initializer_range), RMSNorm weights 1.</summary>
    public void InitializeWeights(int seed)
    {
        var rng = new Random(seed);
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
        {
            var v = Parameters.Value(i);
            if (spec.Shape.Length == 1) { v.Fill(1f); continue; }
            for (int j = 0; j < v.Length; j++)
            {
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
                v[j] = 0.02f * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        }
    }
    public ParameterSet Parameters { get; }

    /// <inheritdoc/>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>Creates a trainable model with zeroed parameters.</summary>
    public LlamaModel(LlamaConfig config, WorkerPool? pool = null) : this(config, ModelOptions.Default, pool) { }

    // The parameter tensors of a configuration, in block order (HF names, nn.Linear (out, in) shapes).
    internal static List<(string, long[], bool)> ParameterSpecs(LlamaConfig config, bool lmHead = true)
    {
        long V = config.VocabSize, C = config.HiddenSize, I = config.IntermediateSize, Q = config.Heads * config.HeadDim, KV = config.KvHeads * config.HeadDim;
        var specs = new List<(string, long[], bool)> { ("model.embed_tokens.weight", [V, C], false) };
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            specs.AddRange(new (string, long[], bool)[]
            {
                (p + "input_layernorm.weight", [C], false),
                (p + "self_attn.q_proj.weight", [Q, C], true), (p + "self_attn.k_proj.weight", [KV, C], true),
                (p + "self_attn.v_proj.weight", [KV, C], true), (p + "self_attn.o_proj.weight", [C, Q], true),
                (p + "post_attention_layernorm.weight", [C], false),
                (p + "mlp.gate_proj.weight", [I, C], true), (p + "mlp.up_proj.weight", [I, C], true), (p + "mlp.down_proj.weight", [C, I], true),
            });
        }
        specs.Add(("model.norm.weight", [C], false));
        if (lmHead) specs.Add(("lm_head.weight", [V, C], true));
        return specs;
    }

    /// <summary>
    /// Bytes that a model of <paramref name="config"/> would take, without allocating anything: the
    /// parameter block, and the activation block planned for <paramref name="batch"/> × <paramref name="time"/>
    /// (the same <see cref="LlamaActivations"/> plan training allocates, made plan-only).
    /// </summary>
    public static ModelMemory PlanMemory(LlamaConfig config, int batch, int time, bool activationCheckpointing = false)
    {
        config.Validate();
        double bt = (double)Math.Max(0, batch) * Math.Max(0, time);
        double parameters = ModelMemory.LinearInLayers(config.Layers, l => ParameterSet.PlanFloats(ParameterSpecs(config with { Layers = l }))) * sizeof(float);
        // Past ~2⁵⁸ bytes the long arithmetic of a plan would overflow; no machine has that much anyway.
        double activations = bt == 0 ? 0
            : bt * ((double)config.VocabSize + (16.0 * config.HiddenSize + 4.0 * config.IntermediateSize) * config.Layers + (double)config.Heads * time * config.Layers) > 1e16 ? double.PositiveInfinity
            : ModelMemory.LinearInLayers(config.Layers, l => new LlamaActivations(config with { Layers = l }, batch, time, activationCheckpointing, allocate: false).Bytes);
        return new ModelMemory(parameters, 2.0 * config.VocabSize * config.HiddenSize * sizeof(float), activations, bt * config.VocabSize * sizeof(float));
    }

    /// <summary>Creates a model with zeroed parameters, roles and projections chosen by <paramref name="options"/>.</summary>
    public LlamaModel(LlamaConfig config, ModelOptions options, WorkerPool? pool = null)
    {
        config.Validate();
        Config = config;
        _pool = pool ?? WorkerPool.Shared;
        _hiddenOnly = options.HiddenStatesOnly;
        _plans = new ActivationPlanCache<LlamaActivations>((b, t) => new LlamaActivations(Config, b, t, _checkpointing, logits: !_hiddenOnly));
        long V = config.VocabSize, C = config.HiddenSize, I = config.IntermediateSize, Q = config.Heads * config.HeadDim, KV = config.KvHeads * config.HeadDim;
        Parameters = new ParameterSet(ParameterSpecs(config, lmHead: !options.HiddenStatesOnly).Concat(options.HeadParameters), options.Trainable);
        _embed = Parameters.IndexOf("model.embed_tokens.weight");
        _norm = Parameters.IndexOf("model.norm.weight");
        IProjection Lin(string path, long inF, long outF) =>
            options.Project(new ProjectionSpec(path, ProjectionLayout.OutIn, (int)inF, (int)outF, Parameters.IndexOf(path + ".weight")), Parameters, _pool);
        if (!options.HiddenStatesOnly) _head = new LanguageModelHead(Lin("lm_head", C, V));
        _layers = new LayerIndex[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            int X(string n) => Parameters.IndexOf(p + n);
            _layers[l] = new LayerIndex(X("input_layernorm.weight"), Lin(p + "self_attn.q_proj", C, Q), Lin(p + "self_attn.k_proj", C, KV), Lin(p + "self_attn.v_proj", C, KV),
                Lin(p + "self_attn.o_proj", Q, C), X("post_attention_layernorm.weight"), Lin(p + "mlp.gate_proj", C, I), Lin(p + "mlp.up_proj", C, I), Lin(p + "mlp.down_proj", I, C));
        }
    }

    /// <summary>Loads weights with HF names (a "w." style prefix may be given).</summary>
    public void LoadWeights(SafetensorsFile file, string prefix = "")
    {
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
            if (!Parameters.IsHeldByProjection(i)) file.ReadSingle(prefix + spec.Name, Parameters.Value(i), spec.Shape);
    }

    /// <summary>Saves model.safetensors (HF names) and config.json.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"),
            Parameters.Specs.Select((s, i) => new SafetensorsWriter.Item(s.Name, s.Shape, Parameters.Value(i).ToArray())),
            new Dictionary<string, string> { ["format"] = "pt" });
        Config.Save(Path.Combine(directory, "config.json"));
    }

    /// <inheritdoc/>
    public void ForwardSelected(in TokenBatch batch, ReadOnlySpan<int> rows, Span<float> logits)
    {
        var head = Head;   // a body built for hidden states has none: refuse before computing anything
        if (logits.Length < (long)rows.Length * Config.VocabSize) throw new ArgumentException($"logits has {logits.Length} floats; {rows.Length} rows × vocab {Config.VocabSize} need {(long)rows.Length * Config.VocabSize}.");
        var hidden = ForwardHidden(batch);
        head.ForwardSelected(hidden, Config.HiddenSize, rows, logits[..(rows.Length * Config.VocabSize)]);
    }

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    public ReadOnlySpan<float> Logits => Acts is { } a ? a[a.Logits] : throw new InvalidOperationException("Run Forward first.");

    /// <summary>Runs the body: the final RMSNorm of the last layer's output, (B·T, C), valid until the next forward.</summary>
    public ReadOnlySpan<float> ForwardHidden(in TokenBatch batch)
    {
        batch.RequireRightPadding("Llama");
        int B = batch.Batch, T = batch.Time;
        if (T > Config.MaxPositions) throw new ArgumentException($"Sequence length {T} exceeds max_position_embeddings {Config.MaxPositions}.");
        var a = _plans.Use(B, T);
        int C = Config.HiddenSize, NH = Config.Heads, NKV = Config.KvHeads, hd = Config.HeadDim, BT = B * T;
        var ids = batch.Ids;
        var p = Parameters;
        float eps = Config.RmsNormEpsilon;
        a.HasTargets = false;
        ids.CopyTo(a.Ids);
        a.Packed = batch.DocumentLayout(a.Positions, a.FirstKey, "Llama");   // packed documents: RoPE at position_ids, block-diagonal mask
        Rotary.Tables(T, hd, Config.RopeTheta, Config.RopeScaling?.ToKernel() ?? default, Config.MaxPositions, a[a.Cos], a[a.Sin]);

        Embedding.Forward(ids, p.Value(_embed), C, a[a.Embedded], _pool);
        _wordPath.Scale(a[a.Embedded], B, T, C);   // α·embed_tokens[ids] (IWordEmbeddingGradient; no-op unless set)
        Span<float> x = a[a.Embedded];
        for (int l = 0; l < Config.Layers; l++)
        {
            ForwardLayer(a, l, x);
            x = a[a.Layers[l].Residual3];
        }
        RmsNorm.Forward(x, p.Value(_norm), a[a.Lnf], a[a.RstdF], C, eps, _pool);
        return a[a.Lnf];
    }

    // One block: x → Residual3 of layer l, its activations in a.Layers[l] (the shared scratch when checkpointing).
    private void ForwardLayer(LlamaActivations a, int l, ReadOnlySpan<float> x)
    {
        var p = Parameters;
        var L = _layers[l];
        var s = a.Layers[l];
        int B = a.B, T = a.T, C = Config.HiddenSize, NH = Config.Heads, NKV = Config.KvHeads, hd = Config.HeadDim, BT = B * T;
        float eps = Config.RmsNormEpsilon;
        RmsNorm.Forward(x, p.Value(L.InNorm), a[s.Ln1], a[s.Rstd1], C, eps, _pool);
        L.Q.Forward(a[s.Ln1], a[a.QRow], BT);
        L.K.Forward(a[s.Ln1], a[a.KRow], BT);
        L.V.Forward(a[s.Ln1], a[a.VRow], BT);
        Rope(a, a[a.QRow], NH, inverse: false);
        Rope(a, a[a.KRow], NKV, inverse: false);
        Attention.ForwardRows(a[a.QRow], a[a.KRow], a[a.VRow], a[s.Q], a[s.K], a[s.V], a[s.Att],
            a[a.H0], a[s.Y], B, T, NH, NKV, hd, SoftmaxMask.CausalDocuments(a.DocumentStarts, NH), _pool);
        x.CopyTo(a[s.Residual2]);
        L.O.Forward(a[s.Y], a[s.Residual2], BT, accumulate: true);
        RmsNorm.Forward(a[s.Residual2], p.Value(L.PostNorm), a[s.Ln2], a[s.Rstd2], C, eps, _pool);
        L.Gate.Forward(a[s.Ln2], a[s.Gate], BT);
        L.Up.Forward(a[s.Ln2], a[s.Up], BT);
        Activations.SiluForward(a[s.Gate], a[s.Act], _pool);
        Arithmetic.Multiply(a[s.Act], a[s.Up], a[s.Act], _pool);
        a[s.Residual2].CopyTo(a[s.Residual3]);
        L.Down.Forward(a[s.Act], a[s.Residual3], BT, accumulate: true);
    }

    // Rotary embeddings at each row's position: t, or its position id when documents are packed.
    private void Rope(LlamaActivations a, Span<float> rows, int heads, bool inverse)
    {
        if (a.Packed) Rotary.Apply(rows, heads, Config.HeadDim, a.Positions, a[a.Cos], a[a.Sin], inverse, _pool);
        else Rotary.Apply(rows, a.T, heads, Config.HeadDim, a[a.Cos], a[a.Sin], inverse, 0, _pool);
    }

    /// <summary>Forward pass; returns the mean loss over targets ≠ −100 when targets are given, else NaN.</summary>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time) => Forward(new TokenBatch(ids, batch, time), targets);

    /// <summary>The forward pass on a batch that may pack documents (<see cref="TokenBatch.PositionIds"/>).</summary>
    public float Forward(in TokenBatch batch, ReadOnlySpan<int> targets)
    {
        long BT = (long)batch.Batch * batch.Time;
        if (!targets.IsEmpty && targets.Length != BT) throw new ArgumentException($"targets has {targets.Length} elements; B×T = {BT}.");
        var head = Head;   // a body built for hidden states has none: refuse before computing anything
        var hidden = ForwardHidden(batch);
        var a = Acts!;
        head.Forward(hidden, a[a.Logits], (int)BT);
        a.HasTargets = !targets.IsEmpty;
        if (!a.HasTargets) return float.NaN;
        targets.CopyTo(a.Targets);
        return CrossEntropyLoss.Forward(a[a.Logits], targets, Config.VocabSize, a[a.Losses], _pool);
    }

    /// <summary>Adds the gradient of lossScale × the last forward's mean loss to the gradients; overwrites the logits.</summary>
    public void Backward(float lossScale = 1f)
    {
        var a = Acts ?? throw new InvalidOperationException("Run Forward with targets before Backward.");
        if (!a.HasTargets) throw new InvalidOperationException("Backward needs the last Forward to have had targets.");
        Parameters.EnsureGradients();
        CrossEntropyLoss.Backward(a[a.Logits], a.Targets, Config.VocabSize, a[a.Losses], lossScale, _pool);
        Head.Backward(a[a.Logits], a[a.Lnf], a[a.DLn], a.B * a.T);
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
        int B = a.B, T = a.T, C = Config.HiddenSize, NH = Config.Heads, NKV = Config.KvHeads, hd = Config.HeadDim, BT = B * T;
        if (hiddenGradient.Length != (long)BT * C) throw new ArgumentException($"The hidden-state gradient has {hiddenGradient.Length} elements; B·T·C = {(long)BT * C}.");
        var p = Parameters;
        var dres = a[a.DRes];
        var dln = a[a.DLn];

        // hidden = rmsnorm(x_L)·w
        Span<float> xL = a[a.Layers[Config.Layers - 1].Residual3];
        RmsNorm.Backward(hiddenGradient, xL, p.Value(_norm), a[a.RstdF], dres, p.GradientOrDiscard(_norm), C, false, _pool);

        for (int l = Config.Layers - 1; l >= 0; l--)
        {
            var L = _layers[l];
            var s = a.Layers[l];
            Span<float> input = l == 0 ? a[a.Embedded] : a[a.Layers[l - 1].Residual3];
            if (_checkpointing) ForwardLayer(a, l, input);   // rebuild this block's activations in the scratch
            // x = x + (silu(g) ⊙ u)·Wdᵀ
            var dAct = a[a.DI0];
            L.Down.Backward(dres, a[s.Act], dAct, BT);
            var dUp = a[a.DI1];
            Activations.SiluForward(a[s.Gate], dUp, _pool);             // silu(g)
            Arithmetic.Multiply(dAct, dUp, dUp, _pool);                 // dU = dAct ⊙ silu(g)
            Arithmetic.Multiply(dAct, a[s.Up], dAct, _pool);            // dAct ⊙ u
            Activations.SiluBackward(a[s.Gate], dAct, dAct, _pool);     // dG = dAct ⊙ u ⊙ silu'(g)
            L.Gate.Backward(dAct, a[s.Ln2], dln, BT);
            L.Up.Backward(dUp, a[s.Ln2], dln, BT, accumulateInput: true);
            RmsNorm.Backward(dln, a[s.Residual2], p.Value(L.PostNorm), a[s.Rstd2], dres, p.GradientOrDiscard(L.PostNorm), C, accumulate: true, _pool);
            // x = x + attention(...)·Woᵀ
            var dy = a[a.QRow];
            L.O.Backward(dres, a[s.Y], dy, BT);
            Attention.BackwardRows(dy, a[s.Q], a[s.K], a[s.V], a[s.Att], a[a.H0], a[a.H1], a[a.H2], a[a.H3],
                a[a.DAtt], a[a.QRow], a[a.KRow], a[a.VRow], B, T, NH, NKV, hd, _pool);
            Rope(a, a[a.QRow], NH, inverse: true);
            Rope(a, a[a.KRow], NKV, inverse: true);
            L.Q.Backward(a[a.QRow], a[s.Ln1], dln, BT);
            L.K.Backward(a[a.KRow], a[s.Ln1], dln, BT, accumulateInput: true);
            L.V.Backward(a[a.VRow], a[s.Ln1], dln, BT, accumulateInput: true);
            RmsNorm.Backward(dln, input, p.Value(L.InNorm), a[s.Rstd1], dres, p.GradientOrDiscard(L.InNorm), C, accumulate: true, _pool);
        }
        _wordPath.Capture(dres, BT * C);   // x = α·embed_tokens[ids]: d(x) is the word rows' gradient
        if (p.IsTrainable(_embed)) Embedding.Backward(a.Ids, dres, p.Gradient(_embed), C, _pool);
    }

    private readonly WordEmbeddingPath _wordPath = new();

    /// <inheritdoc/>
    public void SetWordEmbeddingScales(ReadOnlySpan<float> perSequence) => _wordPath.SetScales(perSequence);

    /// <inheritdoc/>
    public bool KeepWordEmbeddingGradient { get => _wordPath.KeepGradient; set => _wordPath.KeepGradient = value; }

    /// <inheritdoc/>
    public ReadOnlySpan<float> WordEmbeddingGradient => _wordPath.Gradient;

    /// <inheritdoc/>
    public void WordEmbeddings(ReadOnlySpan<int> ids, Span<float> rows) => Embedding.Forward(ids, Parameters.Value(_embed), Config.HiddenSize, rows, _pool);

    public void Dispose()
    {
        _plans.Dispose();
        _paged.Dispose();
        foreach (var L in _layers)
            foreach (var proj in new[] { L.Q, L.K, L.V, L.O, L.Gate, L.Up, L.Down }) proj.Dispose();
        _head?.Dispose();
        Parameters.Dispose();
    }
}
