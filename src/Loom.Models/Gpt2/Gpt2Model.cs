// GPT-2 (Radford et al. 2019) with explicit forward and backward passes, after karpathy/llm.c.
// Parameters use Hugging Face's names and GPT-2's Conv1D layout (weights (in, out)), so a
// model.safetensors from the Hub loads as is. Activations for a (B, T) batch are planned into one
// block before the first step; a new (B, T) is an explicit Plan call, never an allocation per step.
//
// forward:  x = wte[ids] + wpe[t]
//           per layer: h = ln_1(x); qkv = h·W_attn + b; y = attention(qkv); x = x + y·W_proj + b
//                      h = ln_2(x); f = gelu(h·W_fc + b); x = x + f·W_mproj + b
//           logits = ln_f(x)·wteᵀ (tied head); loss = mean cross-entropy over targets ≠ −100
// backward: the same lines in exact reverse.
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models.Gpt2;

/// <summary>A GPT-2 language model with training support.</summary>
public sealed partial class Gpt2Model : ICausalLanguageModel
{
    private readonly WorkerPool _pool;

    // Parameter indexes into Parameters (shape comments as in HF's GPT-2).
    private readonly int _wte;   // (V, C)
    private readonly int _wpe;   // (maxT, C)
    private readonly int _lnfW, _lnfB; // (C)
    private readonly LayerIndex[] _layers;

    private readonly record struct LayerIndex(
        int Ln1W, int Ln1B,       // (C)
        int AttnW, int AttnB,     // (C, 3C), (3C)
        int ProjW, int ProjB,     // (C, C), (C)
        int Ln2W, int Ln2B,       // (C)
        int FcW, int FcB,         // (C, 4C), (4C)
        int MprojW, int MprojB);  // (4C, C), (C)

    /// <summary>The configuration.</summary>
    public Gpt2Config Config { get; }

    /// <inheritdoc/>
    public object Configuration => Config;

    /// <inheritdoc/>
    public int VocabularySize => Config.VocabSize;

    /// <inheritdoc/>
    public int ContextLength => Config.MaxPositions;

    /// <summary>Parameters and their gradients.</summary>
    public ParameterSet Parameters { get; }

    private ActivationBlock? _acts;
    // Plans of the shapes seen so far: length-bucketed batches switch between a few (B, T), each
    // planned once and reused, so a training loop over buckets allocates only while warming up.
    private readonly Dictionary<(int B, int T), ActivationBlock> _plans = new();

    /// <summary>Creates a model with zeroed parameters (load or initialise them next).</summary>
    public Gpt2Model(Gpt2Config config, WorkerPool? pool = null)
    {
        config.Validate();
        Config = config;
        _pool = pool ?? WorkerPool.Shared;
        var specs = ParameterSpecs(config);
        Parameters = new ParameterSet(specs);
        _wte = Parameters.IndexOf("wte.weight");
        _wpe = Parameters.IndexOf("wpe.weight");
        _lnfW = Parameters.IndexOf("ln_f.weight");
        _lnfB = Parameters.IndexOf("ln_f.bias");
        _layers = new LayerIndex[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            int I(string n) => Parameters.IndexOf($"h.{l}.{n}");
            _layers[l] = new LayerIndex(I("ln_1.weight"), I("ln_1.bias"), I("attn.c_attn.weight"), I("attn.c_attn.bias"),
                I("attn.c_proj.weight"), I("attn.c_proj.bias"), I("ln_2.weight"), I("ln_2.bias"),
                I("mlp.c_fc.weight"), I("mlp.c_fc.bias"), I("mlp.c_proj.weight"), I("mlp.c_proj.bias"));
        }
    }

    // The parameter tensors of a configuration, in block order (HF names, shapes as HF's GPT-2).
    private static List<(string, long[], bool)> ParameterSpecs(Gpt2Config config)
    {
        long V = config.VocabSize, C = config.Embedding, P = config.MaxPositions;
        var specs = new List<(string, long[], bool)>
        {
            ("wte.weight", [V, C], false),
            ("wpe.weight", [P, C], false),
        };
        for (int l = 0; l < config.Layers; l++)
        {
            string h = $"h.{l}.";
            specs.AddRange(new (string, long[], bool)[]
            {
                (h + "ln_1.weight", [C], false), (h + "ln_1.bias", [C], false),
                (h + "attn.c_attn.weight", [C, 3 * C], true), (h + "attn.c_attn.bias", [3 * C], false),
                (h + "attn.c_proj.weight", [C, C], true), (h + "attn.c_proj.bias", [C], false),
                (h + "ln_2.weight", [C], false), (h + "ln_2.bias", [C], false),
                (h + "mlp.c_fc.weight", [C, 4 * C], true), (h + "mlp.c_fc.bias", [4 * C], false),
                (h + "mlp.c_proj.weight", [4 * C, C], true), (h + "mlp.c_proj.bias", [C], false),
            });
        }
        specs.Add(("ln_f.weight", [C], false));
        specs.Add(("ln_f.bias", [C], false));
        return specs;
    }

    /// <summary>
    /// Bytes that a model of <paramref name="config"/> would take, without allocating anything: the
    /// parameter block, and the activation block planned for <paramref name="batch"/> × <paramref name="time"/>.
    /// </summary>
    public static ModelMemory PlanMemory(Gpt2Config config, int batch, int time, bool activationCheckpointing)
    {
        config.Validate();
        double bt = (double)Math.Max(0, batch) * Math.Max(0, time);
        double parameters = ModelMemory.LinearInLayers(config.Layers, l => ParameterSet.PlanFloats(ParameterSpecs(config with { Layers = l }))) * sizeof(float);
        // Past ~2⁵⁸ bytes the long arithmetic of a plan would overflow; no machine has that much anyway.
        double activations = bt == 0 ? 0
            : bt * ((double)config.VocabSize + 32.0 * config.Embedding * config.Layers + (double)config.Heads * time * config.Layers) > 1e16 ? double.PositiveInfinity
            : ModelMemory.LinearInLayers(config.Layers, l => new ActivationBlock(config with { Layers = l }, batch, time, activationCheckpointing, allocate: false).Plan.Bytes);
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

    private static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>Loads weights from a safetensors file with HF names (an optional "transformer." prefix is accepted).</summary>
    public void LoadWeights(SafetensorsFile file, string prefix = "")
    {
        if (prefix.Length == 0 && !file.Tensors.ContainsKey("wte.weight") && file.Tensors.ContainsKey("transformer.wte.weight")) prefix = "transformer.";
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
            file.ReadSingle(prefix + spec.Name, Parameters.Value(i), spec.Shape);
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

    /// <summary>Frees every planned activation block (the next Forward plans again).</summary>
    public void DisposePlans()
    {
        foreach (var plan in _plans.Values) plan.Dispose();
        _plans.Clear();
        _acts = null;
    }

    /// <summary>Bytes of the current activation block (0 before the first Plan).</summary>
    public long ActivationBytes => _acts?.Plan.Bytes ?? 0;

    /// <summary>Plans activations for batches of <paramref name="batch"/> × <paramref name="time"/>; cheap when unchanged.</summary>
    public void Plan(int batch, int time)
    {
        if (time > Config.MaxPositions) throw new ArgumentException($"Sequence length {time} exceeds n_positions {Config.MaxPositions}.");
        if (_acts is { } a && a.B == batch && a.T == time) return;
        if (!_plans.TryGetValue((batch, time), out var plan))
            _plans[(batch, time)] = plan = new ActivationBlock(Config, batch, time, _checkpointing);
        _acts = plan;
    }

    /// <summary>
    /// Runs the forward pass on <paramref name="ids"/> (B·T). With <paramref name="targets"/> returns the mean
    /// loss over targets ≠ −100; otherwise NaN. Logits stay readable through <see cref="Logits"/>.
    /// </summary>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time)
    {
        Plan(batch, time);
        var a = _acts!;
        int B = batch, T = time, C = Config.Embedding, V = Config.VocabSize, BT = B * T;
        if (ids.Length != BT) throw new ArgumentException($"ids has {ids.Length} elements; B×T = {BT}.");
        if (!targets.IsEmpty && targets.Length != BT) throw new ArgumentException($"targets has {targets.Length} elements; B×T = {BT}.");
        var p = Parameters;
        float eps = Config.LayerNormEpsilon;
        var shape = new AttentionShape(B, T, C, Config.Heads);

        // x = wte[ids] + wpe[0..T)
        ids.CopyTo(a.Ids);
        var encoded = a.Encoded;
        Embedding.Forward(ids, p.Value(_wte), C, encoded, _pool);
        var wpe = p.Value(_wpe);
        for (int b = 0; b < B; b++)
            Arithmetic.Add(encoded.Slice(b * T * C, T * C), wpe[..(T * C)], encoded.Slice(b * T * C, T * C), _pool);

        Span<float> x = encoded;
        for (int l = 0; l < Config.Layers; l++)
        {
            ForwardLayer(a, l, x, shape);
            x = a.Layer(l).Residual3;
        }
        LayerNorm.Forward(x, p.Value(_lnfW), p.Value(_lnfB), a.Lnf, a.LnfMean, a.LnfRstd, C, eps, _pool);
        Linear.Forward(a.Lnf, p.Value(_wte), default, a.Logits, BT, C, V, _pool);
        a.HasTargets = !targets.IsEmpty;
        if (!a.HasTargets) return float.NaN;
        targets.CopyTo(a.Targets);
        return CrossEntropy.ForwardBackward(a.Logits, targets, V, a.Losses, default, CrossEntropy.DefaultIgnoreIndex, 1f, _pool);
    }

    // One block: x → Residual3 of layer l, saving the block's activations in a.Layer(l).
    private void ForwardLayer(ActivationBlock a, int l, ReadOnlySpan<float> x, AttentionShape shape)
    {
        var p = Parameters;
        var L = _layers[l];
        var s = a.Layer(l);
        int C = Config.Embedding, BT = a.B * a.T;
        float eps = Config.LayerNormEpsilon;
        LayerNorm.Forward(x, p.Value(L.Ln1W), p.Value(L.Ln1B), s.Ln1, s.Ln1Mean, s.Ln1Rstd, C, eps, _pool);
        Conv1D.Forward(s.Ln1, p.Value(L.AttnW), p.Value(L.AttnB), a.Qkv, BT, C, 3 * C, false, _pool);
        Attention.Forward(a.Qkv, s.AttY, s.Q, s.K, s.V, s.Att, a.HeadScratch0, shape, _pool);
        x.CopyTo(s.Residual2);
        Conv1D.Forward(s.AttY, p.Value(L.ProjW), p.Value(L.ProjB), s.Residual2, BT, C, C, accumulate: true, _pool);
        LayerNorm.Forward(s.Residual2, p.Value(L.Ln2W), p.Value(L.Ln2B), s.Ln2, s.Ln2Mean, s.Ln2Rstd, C, eps, _pool);
        Conv1D.Forward(s.Ln2, p.Value(L.FcW), p.Value(L.FcB), s.Fch, BT, C, 4 * C, false, _pool);
        Activations.GeluForward(s.Fch, s.FchGelu, _pool);
        s.Residual2.CopyTo(s.Residual3);
        Conv1D.Forward(s.FchGelu, p.Value(L.MprojW), p.Value(L.MprojB), s.Residual3, BT, 4 * C, C, accumulate: true, _pool);
    }

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    public ReadOnlySpan<float> Logits => (_acts ?? throw new InvalidOperationException("Run Forward first.")).Logits;

    /// <summary>
    /// Adds the gradient of (<paramref name="lossScale"/> × the last forward's mean loss) to
    /// <see cref="ParameterSet.Gradients"/>. Overwrites the logits with their gradient.
    /// </summary>
    public void Backward(float lossScale = 1f)
    {
        var a = _acts ?? throw new InvalidOperationException("Run Forward with targets before Backward.");
        if (!a.HasTargets) throw new InvalidOperationException("Backward needs the last Forward to have had targets.");
        int B = a.B, T = a.T, C = Config.Embedding, V = Config.VocabSize, BT = B * T;
        var p = Parameters;
        var shape = new AttentionShape(B, T, C, Config.Heads);

        // dlogits, in place over the logits
        CrossEntropy.ForwardBackward(a.Logits, a.Targets, V, a.Losses, a.Logits, CrossEntropy.DefaultIgnoreIndex, lossScale, _pool);
        // logits = lnf·wteᵀ
        Linear.Backward(a.Logits, a.Lnf, p.Value(_wte), a.DLn, p.Gradient(_wte), default, BT, C, V, false, _pool);
        // lnf = ln_f(x_L)
        Span<float> xL = Config.Layers > 0 ? a.Layer(Config.Layers - 1).Residual3 : a.Encoded;
        LayerNorm.Backward(a.DLn, xL, p.Value(_lnfW), a.LnfMean, a.LnfRstd, a.DResidual, p.Gradient(_lnfW), p.Gradient(_lnfB), C, false, _pool);

        for (int l = Config.Layers - 1; l >= 0; l--)
        {
            var L = _layers[l];
            Span<float> input = l == 0 ? a.Encoded : a.Layer(l - 1).Residual3;
            if (_checkpointing) ForwardLayer(a, l, input, shape); // rebuild this block's activations in the scratch
            var s = a.Layer(l);
            // x = x + gelu(ln_2(x)·W_fc + b)·W_mproj + b
            Conv1D.Backward(a.DResidual, s.FchGelu, p.Value(L.MprojW), a.DFch, p.Gradient(L.MprojW), p.Gradient(L.MprojB), BT, 4 * C, C, false, _pool);
            Activations.GeluBackward(s.Fch, a.DFch, a.DFch, _pool);
            Conv1D.Backward(a.DFch, s.Ln2, p.Value(L.FcW), a.DLn, p.Gradient(L.FcW), p.Gradient(L.FcB), BT, C, 4 * C, false, _pool);
            LayerNorm.Backward(a.DLn, s.Residual2, p.Value(L.Ln2W), s.Ln2Mean, s.Ln2Rstd, a.DResidual, p.Gradient(L.Ln2W), p.Gradient(L.Ln2B), C, accumulate: true, _pool);
            // x = x + attention(ln_1(x)·W_attn + b)·W_proj + b
            Conv1D.Backward(a.DResidual, s.AttY, p.Value(L.ProjW), a.DAttY, p.Gradient(L.ProjW), p.Gradient(L.ProjB), BT, C, C, false, _pool);
            Attention.Backward(a.DAttY, s.Q, s.K, s.V, s.Att, a.DQkv, a.HeadScratch0, a.HeadScratch1, a.HeadScratch2, a.HeadScratch3, a.DAtt, shape, _pool);
            Conv1D.Backward(a.DQkv, s.Ln1, p.Value(L.AttnW), a.DLn, p.Gradient(L.AttnW), p.Gradient(L.AttnB), BT, C, 3 * C, false, _pool);
            LayerNorm.Backward(a.DLn, input, p.Value(L.Ln1W), s.Ln1Mean, s.Ln1Rstd, a.DResidual, p.Gradient(L.Ln1W), p.Gradient(L.Ln1B), C, accumulate: true, _pool);
        }
        // x = wte[ids] + wpe[t]
        Embedding.Backward(a.Ids, a.DResidual, p.Gradient(_wte), C, _pool);
        var dwpe = p.Gradient(_wpe);
        for (int b = 0; b < B; b++)
            Arithmetic.Add(dwpe[..(T * C)], a.DResidual.Slice(b * T * C, T * C), dwpe[..(T * C)], _pool);
    }

    public void Dispose()
    {
        DisposePlans();
        Parameters.Dispose();
    }

    // Activation buffers for one (B, T), each a region of one block.
    private sealed class ActivationBlock : IDisposable
    {
        public readonly BufferPlan Plan = new();
        public readonly int B, T;
        public bool HasTargets;
        private readonly long _encoded, _qkv, _lnf, _lnfMean, _lnfRstd, _logits, _losses;
        private readonly long _dResidual, _dLn, _dFch, _dAttY, _dQkv, _dAtt, _h0, _h1, _h2, _h3;
        private readonly long[] _layer;
        private readonly int[] _ids, _targets;
        private readonly long _bt, _c, _heads;
        private readonly long _v;

        private readonly bool _checkpointing;
        private readonly long[] _savedOutput; // with checkpointing: each layer's Residual3 (B, T, C)

        public ActivationBlock(Gpt2Config cfg, int b, int t, bool checkpointing, bool allocate = true)
        {
            _checkpointing = checkpointing;
            B = b; T = t;
            long BT = (long)b * t, C = cfg.Embedding, NH = cfg.Heads, V = cfg.VocabSize;
            _bt = BT; _c = C; _heads = NH; _v = V;
            _encoded = Plan.Add(BT * C);     // (B, T, C)
            _qkv = Plan.Add(BT * 3 * C);     // (B, T, 3C), rewritten per layer
            // Without checkpointing every layer has its own activations; with it, one scratch layer
            // serves all, and only each layer's output (Residual3) is kept.
            _layer = new long[cfg.Layers];
            _savedOutput = new long[cfg.Layers];
            long scratch = checkpointing ? Plan.Add(LayerFloats(BT, C, NH, t)) : 0;
            for (int l = 0; l < cfg.Layers; l++)
            {
                _layer[l] = checkpointing ? scratch : Plan.Add(LayerFloats(BT, C, NH, t));
                if (checkpointing) _savedOutput[l] = Plan.Add(BT * C);
            }
            _lnf = Plan.Add(BT * C);         // (B, T, C)
            _lnfMean = Plan.Add(BT);         // (B, T)
            _lnfRstd = Plan.Add(BT);         // (B, T)
            _logits = Plan.Add(BT * V);      // (B, T, V); its gradient in backward
            _losses = Plan.Add(BT);          // (B, T)
            _dResidual = Plan.Add(BT * C);   // gradient of the residual stream
            _dLn = Plan.Add(BT * C);         // gradient at a LayerNorm output
            _dFch = Plan.Add(BT * 4 * C);    // gradient at the MLP hidden layer
            _dAttY = Plan.Add(BT * C);       // gradient at the attention output
            _dQkv = Plan.Add(BT * 3 * C);    // gradient at qkv
            _dAtt = Plan.Add(BT * NH * t);   // (B, NH, T, T) score gradients
            _h0 = Plan.Add(BT * C); _h1 = Plan.Add(BT * C); _h2 = Plan.Add(BT * C); _h3 = Plan.Add(BT * C); // (B, NH, T, hs) scratch
            if (!allocate) { _ids = _targets = []; return; }   // a plan only, to size memory before allocating
            Plan.Allocate();
            _ids = new int[BT];
            _targets = new int[BT];
        }

        // Per layer: ln1, ln1 mean/rstd, q, k, v, att, atty, residual2, ln2, ln2 mean/rstd, fch, fch_gelu, residual3.
        private static long LayerFloats(long BT, long C, long NH, long T) =>
            Pad(BT * C) + 2 * Pad(BT) + 3 * Pad(BT * C) + Pad(BT * NH * T) + Pad(BT * C) + Pad(BT * C) + Pad(BT * C) + 2 * Pad(BT) + 2 * Pad(BT * 4 * C) + Pad(BT * C);

        private static long Pad(long n) => (n + 15) & ~15L;

        public Span<float> Encoded => Plan.Span(_encoded, _bt * _c);
        public Span<float> Qkv => Plan.Span(_qkv, _bt * 3 * _c);
        public Span<float> Lnf => Plan.Span(_lnf, _bt * _c);
        public Span<float> LnfMean => Plan.Span(_lnfMean, _bt);
        public Span<float> LnfRstd => Plan.Span(_lnfRstd, _bt);
        public Span<float> Logits => Plan.Span(_logits, _bt * _v);
        public Span<float> Losses => Plan.Span(_losses, _bt);
        public Span<float> DResidual => Plan.Span(_dResidual, _bt * _c);
        public Span<float> DLn => Plan.Span(_dLn, _bt * _c);
        public Span<float> DFch => Plan.Span(_dFch, _bt * 4 * _c);
        public Span<float> DAttY => Plan.Span(_dAttY, _bt * _c);
        public Span<float> DQkv => Plan.Span(_dQkv, _bt * 3 * _c);
        public Span<float> DAtt => Plan.Span(_dAtt, _bt * _heads * T);
        public Span<float> HeadScratch0 => Plan.Span(_h0, _bt * _c);
        public Span<float> HeadScratch1 => Plan.Span(_h1, _bt * _c);
        public Span<float> HeadScratch2 => Plan.Span(_h2, _bt * _c);
        public Span<float> HeadScratch3 => Plan.Span(_h3, _bt * _c);
        public Span<int> Ids => _ids;
        public Span<int> Targets => _targets;

        public LayerActs Layer(int l) => new(Plan, _layer[l], _bt, _c, _heads, T, _checkpointing ? Plan.Span(_savedOutput[l], _bt * _c) : default);

        public void Dispose() => Plan.Dispose();
    }

    private readonly ref struct LayerActs
    {
        public readonly Span<float> Ln1, Ln1Mean, Ln1Rstd, Q, K, V, Att, AttY, Residual2, Ln2, Ln2Mean, Ln2Rstd, Fch, FchGelu, Residual3;

        public LayerActs(BufferPlan plan, long at, long BT, long C, long NH, long T, Span<float> savedOutput)
        {
            long o = at;
            Span<float> Take(long n) { var s = plan.Span(o, n); o += (n + 15) & ~15L; return s; }
            Ln1 = Take(BT * C); Ln1Mean = Take(BT); Ln1Rstd = Take(BT);
            Q = Take(BT * C); K = Take(BT * C); V = Take(BT * C);   // (B, NH, T, hs)
            Att = Take(BT * NH * T);                                // (B, NH, T, T)
            AttY = Take(BT * C); Residual2 = Take(BT * C); Ln2 = Take(BT * C); Ln2Mean = Take(BT); Ln2Rstd = Take(BT);
            Fch = Take(BT * 4 * C); FchGelu = Take(BT * 4 * C); Residual3 = Take(BT * C);
            if (!savedOutput.IsEmpty) Residual3 = savedOutput;
        }
    }
}
