// Llama (Touvron et al. 2023) with explicit forward and backward passes, in the shape of the GPT-2
// model: parameters with Hugging Face's names and nn.Linear (out, in) layout, one planned block of
// activations per (B, T).
//
// forward:  x = embed[ids]
//           per layer: h = rmsnorm(x)·w; q, k, v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ; q, k = rope(q), rope(k)
//                      y = attention(q, k repeated to every query head, v likewise); x = x + y·Woᵀ
//                      h = rmsnorm(x)·w; x = x + (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ      (SwiGLU, Shazeer 2020)
//           logits = rmsnorm(x)·w · W_headᵀ (untied); loss = mean cross-entropy over targets ≠ −100
// backward: the same lines in exact reverse.
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models.Llama;

/// <summary>A Llama causal language model with training support.</summary>
public sealed class LlamaModel : ICausalLanguageModel
{
    private readonly WorkerPool _pool;
    private readonly int _embed, _norm, _head;   // (V, C), (C), (V, C)
    private readonly LayerIndex[] _layers;
    private Acts? _acts;
    private readonly Dictionary<(int B, int T), Acts> _plans = new();
    private const int MaxPlans = 16;

    private readonly record struct LayerIndex(
        int InNorm,               // (C)
        int Q, int K, int V, int O, // (NH·hd, C), (NKV·hd, C), (NKV·hd, C), (C, NH·hd)
        int PostNorm,             // (C)
        int Gate, int Up, int Down); // (I, C), (I, C), (C, I)

    public LlamaConfig Config { get; }

    /// <inheritdoc/>
    public object Configuration => Config;

    /// <inheritdoc/>
    public int VocabularySize => Config.VocabSize;

    /// <inheritdoc/>
    public int ContextLength => Config.MaxPositions;

    /// <summary>Not implemented for Llama yet (GPT-2 has it); setting true throws.</summary>
    public bool ActivationCheckpointing
    {
        get => false;
        set { if (value) throw new NotSupportedException("Activation checkpointing is implemented for GPT-2 only; set train.activation_checkpointing=false for Llama."); }
    }

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

    // The parameter tensors of a configuration, in block order (HF names, nn.Linear (out, in) shapes).
    private static List<(string, long[], bool)> ParameterSpecs(LlamaConfig config)
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
        specs.Add(("lm_head.weight", [V, C], true));
        return specs;
    }

    /// <summary>
    /// Bytes that a model of <paramref name="config"/> would take, without allocating anything: the
    /// parameter block, and the activation block planned for <paramref name="batch"/> × <paramref name="time"/>.
    /// </summary>
    public static ModelMemory PlanMemory(LlamaConfig config, int batch, int time)
    {
        config.Validate();
        double bt = (double)Math.Max(0, batch) * Math.Max(0, time);
        double parameters = ModelMemory.LinearInLayers(config.Layers, l => ParameterSet.PlanFloats(ParameterSpecs(config with { Layers = l }))) * sizeof(float);
        // Past ~2⁵⁸ bytes the long arithmetic of a plan would overflow; no machine has that much anyway.
        double activations = bt == 0 ? 0
            : bt * ((double)config.VocabSize + (16.0 * config.HiddenSize + 4.0 * config.IntermediateSize) * config.Layers + (double)config.Heads * time * config.Layers) > 1e16 ? double.PositiveInfinity
            : ModelMemory.LinearInLayers(config.Layers, l => new Acts(config with { Layers = l }, batch, time, allocate: false).Bytes);
        return new ModelMemory(parameters, 2.0 * config.VocabSize * config.HiddenSize * sizeof(float), activations, bt * config.VocabSize * sizeof(float));
    }

    public LlamaModel(LlamaConfig config, WorkerPool? pool = null)
    {
        config.Validate();
        Config = config;
        _pool = pool ?? WorkerPool.Shared;
        var specs = ParameterSpecs(config);
        Parameters = new ParameterSet(specs);
        _embed = Parameters.IndexOf("model.embed_tokens.weight");
        _norm = Parameters.IndexOf("model.norm.weight");
        _head = Parameters.IndexOf("lm_head.weight");
        _layers = new LayerIndex[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            int X(string n) => Parameters.IndexOf($"model.layers.{l}.{n}");
            _layers[l] = new LayerIndex(X("input_layernorm.weight"), X("self_attn.q_proj.weight"), X("self_attn.k_proj.weight"), X("self_attn.v_proj.weight"),
                X("self_attn.o_proj.weight"), X("post_attention_layernorm.weight"), X("mlp.gate_proj.weight"), X("mlp.up_proj.weight"), X("mlp.down_proj.weight"));
        }
    }

    /// <summary>Loads weights with HF names (a "w." style prefix may be given).</summary>
    public void LoadWeights(SafetensorsFile file, string prefix = "")
    {
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
            file.ReadSingle(prefix + spec.Name, Parameters.Value(i), spec.Shape);
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

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    public ReadOnlySpan<float> Logits => (_acts ?? throw new InvalidOperationException("Run Forward first.")).Span(_acts.Logits);

    /// <summary>Forward pass; returns the mean loss over targets ≠ −100 when targets are given, else NaN.</summary>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time)
    {
        if (time > Config.MaxPositions) throw new ArgumentException($"Sequence length {time} exceeds max_position_embeddings {Config.MaxPositions}.");
        // One planned block per batch shape, kept: dynamic padding cycles through a few shapes. Past
        // MaxPlans shapes (generation without a cache grows T by one each token) the others are freed.
        if (_acts is null || _acts.B != batch || _acts.T != time)
        {
            if (!_plans.TryGetValue((batch, time), out var plan))
            {
                if (_plans.Count >= MaxPlans)
                {
                    foreach (var old in _plans.Values) old.Dispose();
                    _plans.Clear();
                }
                _plans[(batch, time)] = plan = new Acts(Config, batch, time);
            }
            _acts = plan;
        }
        var a = _acts;
        int B = batch, T = time, C = Config.HiddenSize, V = Config.VocabSize, NH = Config.Heads, NKV = Config.KvHeads, hd = Config.HeadDim, I = Config.IntermediateSize, BT = B * T;
        int Q = NH * hd, KV = NKV * hd;
        if (ids.Length != BT) throw new ArgumentException($"ids has {ids.Length} elements; B×T = {BT}.");
        var p = Parameters;
        float eps = Config.RmsNormEpsilon;
        ids.CopyTo(a.Ids);
        Rotary.Tables(T, hd, Config.RopeTheta, Config.RopeScaling?.ToKernel() ?? default, Config.MaxPositions, a.Span(a.Cos), a.Span(a.Sin));

        Embedding.Forward(ids, p.Value(_embed), C, a.Span(a.Embedded), _pool);
        Span<float> x = a.Span(a.Embedded);
        for (int l = 0; l < Config.Layers; l++)
        {
            var L = _layers[l];
            var s = a.Layer(l);
            RmsNorm.Forward(x, p.Value(L.InNorm), a.Span(s.Ln1), a.Span(s.Rstd1), C, eps, _pool);
            Linear.Forward(a.Span(s.Ln1), p.Value(L.Q), default, a.Span(a.QRow), BT, C, Q, _pool);
            Linear.Forward(a.Span(s.Ln1), p.Value(L.K), default, a.Span(a.KRow), BT, C, KV, _pool);
            Linear.Forward(a.Span(s.Ln1), p.Value(L.V), default, a.Span(a.VRow), BT, C, KV, _pool);
            Rotary.Apply(a.Span(a.QRow), T, NH, hd, a.Span(a.Cos), a.Span(a.Sin), false, 0, _pool);
            Rotary.Apply(a.Span(a.KRow), T, NKV, hd, a.Span(a.Cos), a.Span(a.Sin), false, 0, _pool);
            Attention.ForwardRows(a.Span(a.QRow), a.Span(a.KRow), a.Span(a.VRow), a.Span(s.Q), a.Span(s.K), a.Span(s.V), a.Span(s.Att),
                a.Span(a.H0), a.Span(s.Y), B, T, NH, NKV, hd, SoftmaxMask.CausalSquare, _pool);
            x.CopyTo(a.Span(s.Residual2));
            Linear.Forward(a.Span(s.Y), p.Value(L.O), default, a.Span(s.Residual2), BT, Q, C, _pool, accumulate: true);
            RmsNorm.Forward(a.Span(s.Residual2), p.Value(L.PostNorm), a.Span(s.Ln2), a.Span(s.Rstd2), C, eps, _pool);
            Linear.Forward(a.Span(s.Ln2), p.Value(L.Gate), default, a.Span(s.Gate), BT, C, I, _pool);
            Linear.Forward(a.Span(s.Ln2), p.Value(L.Up), default, a.Span(s.Up), BT, C, I, _pool);
            Activations.SiluForward(a.Span(s.Gate), a.Span(s.Act), _pool);
            Arithmetic.Multiply(a.Span(s.Act), a.Span(s.Up), a.Span(s.Act), _pool);
            a.Span(s.Residual2).CopyTo(a.Span(s.Residual3));
            Linear.Forward(a.Span(s.Act), p.Value(L.Down), default, a.Span(s.Residual3), BT, I, C, _pool, accumulate: true);
            x = a.Span(s.Residual3);
        }
        RmsNorm.Forward(x, p.Value(_norm), a.Span(a.Lnf), a.Span(a.RstdF), C, eps, _pool);
        Linear.Forward(a.Span(a.Lnf), p.Value(_head), default, a.Span(a.Logits), BT, C, V, _pool);
        a.HasTargets = !targets.IsEmpty;
        if (!a.HasTargets) return float.NaN;
        targets.CopyTo(a.Targets);
        return CrossEntropy.ForwardBackward(a.Span(a.Logits), targets, V, a.Span(a.Losses), default, CrossEntropy.DefaultIgnoreIndex, 1f, _pool);
    }

    /// <summary>Adds the gradient of lossScale × the last forward's mean loss to the gradients; overwrites the logits.</summary>
    public void Backward(float lossScale = 1f)
    {
        var a = _acts ?? throw new InvalidOperationException("Run Forward with targets before Backward.");
        if (!a.HasTargets) throw new InvalidOperationException("Backward needs the last Forward to have had targets.");
        int B = a.B, T = a.T, C = Config.HiddenSize, V = Config.VocabSize, NH = Config.Heads, NKV = Config.KvHeads, hd = Config.HeadDim, I = Config.IntermediateSize, BT = B * T;
        int Q = NH * hd, KV = NKV * hd;
        var p = Parameters;
        var dres = a.Span(a.DRes);
        var dln = a.Span(a.DLn);

        CrossEntropy.ForwardBackward(a.Span(a.Logits), a.Targets, V, a.Span(a.Losses), a.Span(a.Logits), CrossEntropy.DefaultIgnoreIndex, lossScale, _pool);
        Linear.Backward(a.Span(a.Logits), a.Span(a.Lnf), p.Value(_head), dln, p.Gradient(_head), default, BT, C, V, false, _pool);
        Span<float> xL = a.Span(a.Layer(Config.Layers - 1).Residual3);
        RmsNorm.Backward(dln, xL, p.Value(_norm), a.Span(a.RstdF), dres, p.Gradient(_norm), C, false, _pool);

        for (int l = Config.Layers - 1; l >= 0; l--)
        {
            var L = _layers[l];
            var s = a.Layer(l);
            Span<float> input = l == 0 ? a.Span(a.Embedded) : a.Span(a.Layer(l - 1).Residual3);
            // x = x + (silu(g) ⊙ u)·Wdᵀ
            var dAct = a.Span(a.DI0);
            Linear.Backward(dres, a.Span(s.Act), p.Value(L.Down), dAct, p.Gradient(L.Down), default, BT, I, C, false, _pool);
            var dUp = a.Span(a.DI1);
            Activations.SiluForward(a.Span(s.Gate), dUp, _pool);             // silu(g)
            Arithmetic.Multiply(dAct, dUp, dUp, _pool);                       // dU = dAct ⊙ silu(g)
            Arithmetic.Multiply(dAct, a.Span(s.Up), dAct, _pool);             // dAct ⊙ u
            Activations.SiluBackward(a.Span(s.Gate), dAct, dAct, _pool);      // dG = dAct ⊙ u ⊙ silu'(g)
            Linear.Backward(dAct, a.Span(s.Ln2), p.Value(L.Gate), dln, p.Gradient(L.Gate), default, BT, C, I, false, _pool);
            Linear.Backward(dUp, a.Span(s.Ln2), p.Value(L.Up), dln, p.Gradient(L.Up), default, BT, C, I, accumulateInput: true, _pool);
            RmsNorm.Backward(dln, a.Span(s.Residual2), p.Value(L.PostNorm), a.Span(s.Rstd2), dres, p.Gradient(L.PostNorm), C, accumulate: true, _pool);
            // x = x + attention(...)·Woᵀ
            var dy = a.Span(a.QRow);
            Linear.Backward(dres, a.Span(s.Y), p.Value(L.O), dy, p.Gradient(L.O), default, BT, Q, C, false, _pool);
            Attention.BackwardRows(dy, a.Span(s.Q), a.Span(s.K), a.Span(s.V), a.Span(s.Att), a.Span(a.H0), a.Span(a.H1), a.Span(a.H2), a.Span(a.H3),
                a.Span(a.DAtt), a.Span(a.QRow), a.Span(a.KRow), a.Span(a.VRow), B, T, NH, NKV, hd, _pool);
            Rotary.Apply(a.Span(a.QRow), T, NH, hd, a.Span(a.Cos), a.Span(a.Sin), inverse: true, 0, _pool);
            Rotary.Apply(a.Span(a.KRow), T, NKV, hd, a.Span(a.Cos), a.Span(a.Sin), inverse: true, 0, _pool);
            Linear.Backward(a.Span(a.QRow), a.Span(s.Ln1), p.Value(L.Q), dln, p.Gradient(L.Q), default, BT, C, Q, false, _pool);
            Linear.Backward(a.Span(a.KRow), a.Span(s.Ln1), p.Value(L.K), dln, p.Gradient(L.K), default, BT, C, KV, accumulateInput: true, _pool);
            Linear.Backward(a.Span(a.VRow), a.Span(s.Ln1), p.Value(L.V), dln, p.Gradient(L.V), default, BT, C, KV, accumulateInput: true, _pool);
            RmsNorm.Backward(dln, input, p.Value(L.InNorm), a.Span(s.Rstd1), dres, p.Gradient(L.InNorm), C, accumulate: true, _pool);
        }
        Embedding.Backward(a.Ids, dres, p.Gradient(_embed), C, _pool);
    }

    public void Dispose()
    {
        foreach (var plan in _plans.Values) plan.Dispose();
        _plans.Clear();
        _acts = null;
        Parameters.Dispose();
    }

    // Planned activation regions (offsets into one block) for one (B, T).
    private sealed class Acts : IDisposable
    {
        private readonly BufferPlan _plan = new();
        public readonly int B, T;
        public bool HasTargets;
        public readonly int[] Ids, Targets;
        public readonly (long, long) Embedded, Cos, Sin, QRow, KRow, VRow, Lnf, RstdF, Logits, Losses, DRes, DLn, DI0, DI1, H0, H1, H2, H3, DAtt;
        private readonly LayerRegions[] _layers;

        public readonly record struct LayerRegions((long, long) Ln1, (long, long) Rstd1, (long, long) Q, (long, long) K, (long, long) V, (long, long) Att,
            (long, long) Y, (long, long) Residual2, (long, long) Ln2, (long, long) Rstd2, (long, long) Gate, (long, long) Up, (long, long) Act, (long, long) Residual3);

        public Acts(LlamaConfig c, int b, int t, bool allocate = true)
        {
            B = b; T = t;
            long BT = (long)b * t, C = c.HiddenSize, I = c.IntermediateSize, NH = c.Heads, hd = c.HeadDim, Q = NH * hd, KV = c.KvHeads * hd, V = c.VocabSize;
            (long, long) R(long n) => (_plan.Add(n), n);
            Embedded = R(BT * C);                       // (B, T, C)
            Cos = R(t * hd / 2); Sin = R(t * hd / 2);   // (T, hd/2)
            QRow = R(BT * Q); KRow = R(BT * KV); VRow = R(BT * KV);
            _layers = new LayerRegions[c.Layers];
            for (int l = 0; l < c.Layers; l++)
                _layers[l] = new LayerRegions(R(BT * C), R(BT), R(BT * Q), R(BT * Q), R(BT * Q), R(BT * NH * t),
                    R(BT * Q), R(BT * C), R(BT * C), R(BT), R(BT * I), R(BT * I), R(BT * I), R(BT * C));
            Lnf = R(BT * C); RstdF = R(BT); Logits = R(BT * V); Losses = R(BT);
            DRes = R(BT * C); DLn = R(BT * C); DI0 = R(BT * I); DI1 = R(BT * I);
            H0 = R(BT * Q); H1 = R(BT * Q); H2 = R(BT * Q); H3 = R(BT * Q);   // (B, NH, T, hd)
            DAtt = R(BT * NH * t);                                           // (B, NH, T, T)
            if (!allocate) { Ids = Targets = []; return; }   // a plan only, to size memory before allocating
            _plan.Allocate();
            Ids = new int[BT];
            Targets = new int[BT];
        }

        public LayerRegions Layer(int l) => _layers[l];
        public long Bytes => _plan.Bytes;
        public Span<float> Span((long Offset, long Count) r) => _plan.Span(r.Offset, r.Count);
        public void Dispose() => _plan.Dispose();
    }
}
