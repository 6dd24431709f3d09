// BERT (Devlin et al. 2019) encoder with the masked-LM head and the pooler, explicit forward and
// backward, Hugging Face names (BertForMaskedLM + bert.pooler). Post-LN blocks:
//   x = LN(word[ids] + pos[t] + type[types])
//   per layer: a = LN(x + (attention_bidirectional(x·Wqᵀ+b, x·Wkᵀ+b, x·Wvᵀ+b; key padding))·Woᵀ + b)
//              x = LN(a + gelu(a·Wiᵀ + b)·Wo2ᵀ + b)
//   hidden = x                                          (the body ends here)
//   MLM: logits = LN(gelu(hidden·Wtᵀ + b))·wordᵀ + bias (MaskedLanguageModelHead; decoder tied to the word embeddings)
//   pooled = tanh(hidden[:, 0]·Wpᵀ + b)
// Training with hidden dropout p (HF's hidden_dropout_prob) drops the embeddings' LayerNorm output
// and each branch before its residual add.
// backward: the same lines in exact reverse (the pooler is for classification heads; the MLM loss
// does not reach it). Every weight matmul is an IProjection chosen by module path when the model
// is built (ModelOptions.Projections).
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Plans;
using Loom.Models.Formats;
using Loom.Models.Heads;
using Loom.Models.Losses;
using Loom.Models.Parameters;
using Loom.Models.Projections;
using Loom.Models.Regularization;

namespace Loom.Models.Bert;

/// <summary>A BERT encoder with masked-LM head and pooler.</summary>
public sealed class BertModel : IPooledHiddenStateModel, ITrainingMode, IWordEmbeddingGradient, ILayerHiddenStates
{
    private readonly WorkerPool _pool;
    private readonly int _word, _pos, _type;     // (V, C), (maxT, C), (types, C)
    private readonly int _embLnW, _embLnB;       // (C)
    private readonly IProjection _pooler;        // bert.pooler.dense: (C, C) + (C)
    private readonly MaskedLanguageModelHead? _mlm;   // null for a body (ModelOptions.HiddenStatesOnly)
    private MaskedLanguageModelHead Mlm => _mlm ?? throw new InvalidOperationException(
        "This BERT was built as a body for hidden states (ModelOptions.HiddenStatesOnly, as a sequence classifier builds it): it has no masked-LM head (cls.predictions).");
    private readonly LayerIndex[] _layers;
    private readonly ActivationPlanCache<BertActivations> _plans;
    private BertActivations? Acts => _plans.Current;
    private readonly DropoutOptions _dropout;

    /// <summary>
    /// Activation checkpointing per layer (Chen et al. 2016): keep only each layer's output, compute the
    /// rest into one shared scratch layer and recompute it just before that layer's backward.
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

    /// <inheritdoc/>
    public bool IsTraining { get; set; }

    /// <inheritdoc/>
    public ulong DropoutStep { get; set; }

    private sealed record LayerIndex(
        IProjection Q, IProjection K, IProjection V,    // attention.self.{query,key,value}: (C, C) + (C)
        IProjection AttnOut,                            // attention.output.dense: (C, C) + (C)
        int Ln1W, int Ln1B,                             // attention.output.LayerNorm: (C)
        IProjection Inter,                              // intermediate.dense: (I, C) + (I)
        IProjection Out,                                // output.dense: (C, I) + (C)
        int Ln2W, int Ln2B);                            // output.LayerNorm: (C)

    public BertConfig Config { get; }
    public ParameterSet Parameters { get; }

    /// <inheritdoc/>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>Creates a trainable model with zeroed parameters.</summary>
    public BertModel(BertConfig config, WorkerPool? pool = null) : this(config, ModelOptions.Default, pool) { }

    /// <summary>Creates a model with zeroed parameters, roles and projections chosen by <paramref name="options"/>.</summary>
    public BertModel(BertConfig config, ModelOptions options, WorkerPool? pool = null)
    {
        config.Validate();
        Config = config;
        _pool = pool ?? WorkerPool.Shared;
        options.Dropout.Validate();
        _dropout = options.Dropout;
        _plans = new ActivationPlanCache<BertActivations>((b, t) => new BertActivations(Config, b, t, _dropout.Hidden > 0, _checkpointing, _dropout.Attention > 0));
        int V = config.VocabSize, C = config.HiddenSize, I = config.IntermediateSize;
        Parameters = new ParameterSet(ParameterSpecs(config, maskedLmHead: !options.HiddenStatesOnly).Concat(options.HeadParameters), options.Trainable);
        int X(string n) => Parameters.IndexOf(n);
        IProjection Lin(string path, int inF, int outF, string? weight = null, string? bias = null) =>
            options.Project(new ProjectionSpec(path, ProjectionLayout.OutIn, inF, outF, X(weight ?? path + ".weight"), X(bias ?? path + ".bias")), Parameters, _pool);
        _word = X("bert.embeddings.word_embeddings.weight"); _pos = X("bert.embeddings.position_embeddings.weight"); _type = X("bert.embeddings.token_type_embeddings.weight");
        _embLnW = X("bert.embeddings.LayerNorm.weight"); _embLnB = X("bert.embeddings.LayerNorm.bias");
        _pooler = Lin("bert.pooler.dense", C, C);
        if (!options.HiddenStatesOnly)
            _mlm = new MaskedLanguageModelHead(Lin("cls.predictions.transform.dense", C, C),
            Lin("cls.predictions.decoder", C, V, weight: "bert.embeddings.word_embeddings.weight", bias: "cls.predictions.bias"),
            Parameters, X("cls.predictions.transform.LayerNorm.weight"), X("cls.predictions.transform.LayerNorm.bias"), config.LayerNormEpsilon, _pool);
        _layers = new LayerIndex[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"bert.encoder.layer.{l}.";
            _layers[l] = new LayerIndex(Lin(p + "attention.self.query", C, C), Lin(p + "attention.self.key", C, C), Lin(p + "attention.self.value", C, C),
                Lin(p + "attention.output.dense", C, C), X(p + "attention.output.LayerNorm.weight"), X(p + "attention.output.LayerNorm.bias"),
                Lin(p + "intermediate.dense", C, I), Lin(p + "output.dense", I, C), X(p + "output.LayerNorm.weight"), X(p + "output.LayerNorm.bias"));
        }
    }

    // The parameter tensors of a configuration, in block order (HF names: BertModel with pooler, then
    // BertForMaskedLM's cls.predictions unless the model is a body only).
    internal static List<(string, long[], bool)> ParameterSpecs(BertConfig config, bool maskedLmHead = true)
    {
        long V = config.VocabSize, C = config.HiddenSize, I = config.IntermediateSize;
        var specs = new List<(string, long[], bool)>
        {
            ("bert.embeddings.word_embeddings.weight", [V, C], false),
            ("bert.embeddings.position_embeddings.weight", [config.MaxPositions, C], false),
            ("bert.embeddings.token_type_embeddings.weight", [config.TypeVocabSize, C], false),
            ("bert.embeddings.LayerNorm.weight", [C], false), ("bert.embeddings.LayerNorm.bias", [C], false),
        };
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"bert.encoder.layer.{l}.";
            foreach (var n in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                specs.Add((p + n + ".weight", [C, C], true));
                specs.Add((p + n + ".bias", [C], false));
            }
            specs.Add((p + "attention.output.LayerNorm.weight", [C], false)); specs.Add((p + "attention.output.LayerNorm.bias", [C], false));
            specs.Add((p + "intermediate.dense.weight", [I, C], true)); specs.Add((p + "intermediate.dense.bias", [I], false));
            specs.Add((p + "output.dense.weight", [C, I], true)); specs.Add((p + "output.dense.bias", [C], false));
            specs.Add((p + "output.LayerNorm.weight", [C], false)); specs.Add((p + "output.LayerNorm.bias", [C], false));
        }
        specs.Add(("bert.pooler.dense.weight", [C, C], true)); specs.Add(("bert.pooler.dense.bias", [C], false));
        if (!maskedLmHead) return specs;
        specs.AddRange(new (string, long[], bool)[]
        {
            ("cls.predictions.transform.dense.weight", [C, C], true), ("cls.predictions.transform.dense.bias", [C], false),
            ("cls.predictions.transform.LayerNorm.weight", [C], false), ("cls.predictions.transform.LayerNorm.bias", [C], false),
            ("cls.predictions.bias", [V], false),
        });
        return specs;
    }

    /// <summary>
    /// Hugging Face's BertPreTrainedModel._init_weights: every matrix and embedding N(0, 0.02)
    /// (initializer_range), LayerNorm weight 1 and bias 0, every other bias 0.
    /// </summary>
    public void InitializeWeights(int seed)
    {
        var rng = new Random(seed);
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
        {
            var v = Parameters.Value(i);
            if (spec.Name.Contains("LayerNorm.weight", StringComparison.Ordinal)) v.Fill(1f);
            else if (spec.Shape.Length == 1) v.Clear();
            else for (int j = 0; j < v.Length; j++) v[j] = 0.02f * Gpt2.Gpt2Model.Gaussian(rng);
        }
    }

    /// <summary>Loads weights with HF names; a checkpoint without a pooler (BertForMaskedLM) leaves it zero.</summary>
    public void LoadWeights(SafetensorsFile file, string prefix = "")
    {
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
        {
            if (spec.Name.StartsWith("bert.pooler.", StringComparison.Ordinal) && !file.Tensors.ContainsKey(prefix + spec.Name)) continue;
            if (Parameters.IsHeldByProjection(i)) continue;
            file.ReadSingle(prefix + spec.Name, Parameters.Value(i), spec.Shape);
        }
    }

    /// <summary>Saves model.safetensors (HF names, as BertForPreTraining's MLM part) and config.json.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"),
            Parameters.Specs.Select((s, i) => new SafetensorsWriter.Item(s.Name, s.Shape, Parameters.Value(i).ToArray())),
            new Dictionary<string, string> { ["format"] = "pt" });
        Config.Save(Path.Combine(directory, "config.json"));
    }

    /// <summary>Masked-LM logits of the last forward, (B·T, V).</summary>
    public ReadOnlySpan<float> Logits => Mlm.Logits;

    /// <summary>Pooled [CLS] output of the last forward, (B, C).</summary>
    public ReadOnlySpan<float> Pooled => _truncated ? throw new InvalidOperationException("The last forward ran only some layers, so there is no pooled output; run a full forward.") : Acts is { } a ? a[a.Pooled] : throw new InvalidOperationException("Run Forward first.");

    /// <summary>
    /// Forward on ids, token types and an attention mask (1 = real token, 0 = padding), each B·T.
    /// With targets (−100 = not predicted) returns the mean masked-LM loss, else NaN.
    /// </summary>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> tokenTypes, ReadOnlySpan<int> attentionMask, ReadOnlySpan<int> targets, int batch, int time)
    {
        int BT = batch * time;
        if (ids.Length != BT || tokenTypes.Length != BT || attentionMask.Length != BT)
            throw new ArgumentException($"ids, token types and attention mask must each hold B×T = {BT} values; got {ids.Length}, {tokenTypes.Length}, {attentionMask.Length}.");
        if (!targets.IsEmpty && targets.Length != BT) throw new ArgumentException($"targets has {targets.Length} elements; B×T = {BT}.");
        var mlm = Mlm;   // a body built for hidden states has none: refuse before computing anything
        var hidden = ForwardHidden(new TokenBatch(ids, batch, time) { TokenTypes = tokenTypes, AttentionMask = attentionMask });
        var a = Acts!;
        a.HasTargets = !targets.IsEmpty;
        a.Predicted = 0;
        if (a.HasTargets && LogitsForTargetsOnly)
        {
            // Only the M positions with a target reach the head: the loss (a mean over exactly those rows)
            // is the same, and the decoder's (N, C)·(C, V) product shrinks to (M, C)·(C, V), M ≈ 15% of N.
            int C = Config.HiddenSize, m = 0;
            var rows = a[a.PredictedHidden];
            for (int i = 0; i < BT; i++)
            {
                if (targets[i] == CrossEntropyLoss.IgnoreIndex) continue;
                a.PredictedRows[m] = i;
                a.Targets[m] = targets[i];
                hidden.Slice(i * C, C).CopyTo(rows.Slice(m * C, C));
                m++;
            }
            if (m > 0)
            {
                a.Predicted = m;
                var picked = mlm.Forward(rows[..(m * C)], m, BT);   // one plan for every count of masked rows
                return CrossEntropyLoss.Forward(picked, a.Targets.AsSpan(0, m), Config.VocabSize, a[a.Losses][..m], _pool);
            }
        }
        var logits = mlm.Forward(hidden, BT);
        if (!a.HasTargets) return float.NaN;
        targets.CopyTo(a.Targets);
        return CrossEntropyLoss.Forward(logits, targets, Config.VocabSize, a[a.Losses], _pool);
    }

    /// <summary>
    /// When set, a forward with targets runs the masked-LM head only on the positions whose target is not −100
    /// (as Megatron-LM and the cramming recipe do): the loss and every gradient are those of the full head, but
    /// <see cref="Logits"/> then holds just those rows, (M, V) in position order. Off by default, so Logits keep
    /// Hugging Face's (B·T, V); <see cref="BertForMaskedLM"/> turns it on for pre-training.
    /// </summary>
    public bool LogitsForTargetsOnly { get; set; }

    /// <summary>Runs the encoder and the pooler; returns the last layer's output (B·T, C), valid until the next forward.</summary>
    public ReadOnlySpan<float> ForwardHidden(in TokenBatch batch) => ForwardHidden(batch, Config.Layers);

    /// <inheritdoc/>
    public int LayerCount => Config.Layers;

    // Set by a forward through fewer than all layers (ILayerHiddenStates): no backward or pooled output follows it.
    private bool _truncated;

    /// <summary>
    /// Runs the embeddings and the first <paramref name="layers"/> encoder layers (bert_score's num_layers);
    /// all of them also run the pooler. Returns layer <paramref name="layers"/>'s output (B·T, C), valid until the next forward.
    /// </summary>
    public ReadOnlySpan<float> ForwardHidden(in TokenBatch batch, int layers)
    {
        if (layers < 0 || layers > Config.Layers) throw new ArgumentOutOfRangeException(nameof(layers), layers, $"This BERT has {Config.Layers} layers (num_hidden_layers); choose 0 (the embeddings) to {Config.Layers}.");
        int B = batch.Batch, T = batch.Time, BT = B * T;
        if (T > Config.MaxPositions) throw new ArgumentException($"Sequence length {T} exceeds max_position_embeddings {Config.MaxPositions}.");
        var ids = batch.Ids;
        var tokenTypes = batch.TokenTypes;
        var attentionMask = batch.AttentionMask;
        if ((!tokenTypes.IsEmpty && tokenTypes.Length != BT) || (!attentionMask.IsEmpty && attentionMask.Length != BT))
            throw new ArgumentException($"token types and attention mask must each hold B×T = {BT} values or none; got {tokenTypes.Length}, {attentionMask.Length}.");
        var a = _plans.Use(B, T);
        int C = Config.HiddenSize, NH = Config.Heads, hd = C / NH;
        var p = Parameters;
        float eps = Config.LayerNormEpsilon;
        a.HasTargets = false;
        ids.CopyTo(a.Ids);
        if (tokenTypes.IsEmpty) Array.Clear(a.Types); else tokenTypes.CopyTo(a.Types);
        for (int i = 0; i < BT; i++) a.Keep[i] = (byte)(attentionMask.IsEmpty || attentionMask[i] != 0 ? 1 : 0);
        var mask = new SoftmaxMask { KeyPadding = a.Keep, RowsPerMaskRow = NH * T };

        // x = LN(word[ids] + type[types] + pos[t])
        var sum = a[a.EmbSum];
        Embedding.Forward(ids, p.Value(_word), C, sum, _pool);
        _wordPath.Scale(sum, B, T, C);   // α·word[ids] (IWordEmbeddingGradient; no-op unless set)
        var typeRows = a[a.DC0];
        Embedding.Forward(a.Types, p.Value(_type), C, typeRows, _pool);
        Arithmetic.Add(sum, typeRows, sum, _pool);
        for (int b = 0; b < B; b++) Arithmetic.Add(sum.Slice(b * T * C, T * C), p.Value(_pos)[..(T * C)], sum.Slice(b * T * C, T * C), _pool);
        LayerNorm.Forward(sum, p.Value(_embLnW), p.Value(_embLnB), a[a.Emb], a[a.EmbMean], a[a.EmbRstd], C, eps, _pool);
        a.Dropped = IsTraining && _dropout.Hidden > 0;
        a.AttentionDropped = IsTraining && _dropout.Attention > 0;
        if (a.Dropped)
        {
            Dropout.FillMask(a[a.EmbMask], _dropout.Hidden, _dropout.Seed, Dropout.Stream(DropoutStep, -1, 0));
            Dropout.Apply(a[a.Emb], a[a.EmbMask]);
        }

        Span<float> x = a[a.Emb];
        for (int l = 0; l < layers; l++)
        {
            ForwardLayer(a, l, x, mask);
            x = a[a.Layers[l].X2];
        }
        _truncated = layers < Config.Layers;
        if (_truncated) return x;
        // Pooler: tanh(x[:, 0]·Wpᵀ + b)
        var cls = a[a.Cls];
        for (int b = 0; b < B; b++) x.Slice(b * T * C, C).CopyTo(cls.Slice(b * C, C));
        _pooler.Forward(cls, a[a.Pooled], B);
        System.Numerics.Tensors.TensorPrimitives.Tanh(a[a.Pooled], a[a.Pooled]);
        return x;
    }

    // One encoder layer: x → X2 of layer l, its activations in a.Layers[l] (the shared scratch when
    // checkpointing); dropout masks are regenerated bit for bit from (seed, step, layer).
    private void ForwardLayer(BertActivations a, int l, ReadOnlySpan<float> x, SoftmaxMask mask)
    {
        var p = Parameters;
        var L = _layers[l];
        var s = a.Layers[l];
        int B = a.B, T = a.T, C = Config.HiddenSize, NH = Config.Heads, hd = C / NH, BT = B * T;
        float eps = Config.LayerNormEpsilon;
        L.Q.Forward(x, a[a.QRow], BT);
        L.K.Forward(x, a[a.KRow], BT);
        L.V.Forward(x, a[a.VRow], BT);
        if (a.AttentionDropped) Dropout.FillMask(a[s.MaskProbs], _dropout.Attention, _dropout.Seed, Dropout.Stream(DropoutStep, l, 3));
        Attention.ForwardRows(a[a.QRow], a[a.KRow], a[a.VRow], a[s.Q], a[s.K], a[s.V], a[s.Att],
            a[a.H0], a[s.Ctx], B, T, NH, NH, hd, mask, _pool, a.AttentionDropped ? new AttentionDropout(a[s.MaskProbs], a[a.ProbsDropped]) : default);
        ResidualBranch.Forward(L.AttnOut, a[s.Ctx], x, a[s.R1], BT, a.Dropped, a[s.MaskAttn], a[a.Branch], _dropout, Dropout.Stream(DropoutStep, l, 1), _pool);
        LayerNorm.Forward(a[s.R1], p.Value(L.Ln1W), p.Value(L.Ln1B), a[s.X1], a[s.Mean1], a[s.Rstd1], C, eps, _pool);
        L.Inter.Forward(a[s.X1], a[s.Inter], BT);
        GeluExact.Forward(a[s.Inter], a[s.InterAct], _pool);
        ResidualBranch.Forward(L.Out, a[s.InterAct], a[s.X1], a[s.R2], BT, a.Dropped, a[s.MaskOut], a[a.Branch], _dropout, Dropout.Stream(DropoutStep, l, 2), _pool);
        LayerNorm.Forward(a[s.R2], p.Value(L.Ln2W), p.Value(L.Ln2B), a[s.X2], a[s.Mean2], a[s.Rstd2], C, eps, _pool);
    }

    /// <summary>Adds the gradient of lossScale × the last masked-LM loss; overwrites the logits.</summary>
    public void Backward(float lossScale = 1f)
    {
        var a = Acts ?? throw new InvalidOperationException("Run Forward with targets before Backward.");
        if (!a.HasTargets) throw new InvalidOperationException("Backward needs the last Forward to have had targets.");
        Parameters.EnsureGradients();
        if (a.Predicted > 0)
        {
            // The head saw only the predicted rows: its dhidden (M, C) scatters back; every other row gets zero.
            int m = a.Predicted, C = Config.HiddenSize;
            CrossEntropyLoss.Backward(Mlm.Logits, a.Targets.AsSpan(0, m), Config.VocabSize, a[a.Losses][..m], lossScale, _pool);
            var rows = a[a.PredictedHidden][..(m * C)];
            var rowGradient = a[a.DC0][..(m * C)];
            Mlm.Backward(rows, rowGradient);
            var dhidden = a[a.DC1];
            dhidden.Clear();
            for (int j = 0; j < m; j++) rowGradient.Slice(j * C, C).CopyTo(dhidden.Slice(a.PredictedRows[j] * C, C));
            BackwardHidden(dhidden);
            return;
        }
        CrossEntropyLoss.Backward(Mlm.Logits, a.Targets, Config.VocabSize, a[a.Losses], lossScale, _pool);
        var hidden = Config.Layers > 0 ? a[a.Layers[Config.Layers - 1].X2] : a[a.Emb];
        Mlm.Backward(hidden, a[a.DC1]);
        BackwardHidden(a[a.DC1]);
    }

    /// <inheritdoc/>
    public void BackwardPooled(ReadOnlySpan<float> pooledGradient, Span<float> firstTokenGradient)
    {
        var a = Acts ?? throw new InvalidOperationException("Run a forward pass before the backward.");
        if (_truncated) throw new InvalidOperationException("The last forward ran only some layers (ForwardHidden with layers < num_hidden_layers); run a full forward before the backward.");
        int B = a.B, C = Config.HiddenSize;
        if (pooledGradient.Length != B * C || firstTokenGradient.Length != B * C)
            throw new ArgumentException($"The pooled and first-token gradients must each hold B·C = {B * C} values; got {pooledGradient.Length}, {firstTokenGradient.Length}.");
        Parameters.EnsureGradients();
        // pooled = tanh(pre): dpre = dpooled·(1 − pooled²); pre = cls·Wpᵀ + b
        var pooled = a[a.Pooled];
        var dpre = a[a.DPooled];
        for (int i = 0; i < dpre.Length; i++) dpre[i] = pooledGradient[i] * (1f - pooled[i] * pooled[i]);
        _pooler.Backward(dpre, a[a.Cls], firstTokenGradient, B);
    }

    /// <inheritdoc/>
    public void BackwardHidden(ReadOnlySpan<float> hiddenGradient)
    {
        var a = Acts ?? throw new InvalidOperationException("Run a forward pass before the backward.");
        if (_truncated) throw new InvalidOperationException("The last forward ran only some layers (ForwardHidden with layers < num_hidden_layers); run a full forward before the backward.");
        Parameters.EnsureGradients();
        int B = a.B, T = a.T, C = Config.HiddenSize, NH = Config.Heads, hd = C / NH, BT = B * T;
        if (hiddenGradient.Length != (long)BT * C) throw new ArgumentException($"The hidden-state gradient has {hiddenGradient.Length} elements; B·T·C = {(long)BT * C}.");
        var p = Parameters;
        var dres = a[a.DRes];
        var d0 = a[a.DC0];
        var d1 = a[a.DC1];
        hiddenGradient.CopyTo(dres);   // may be d1 itself: copy before the layers reuse it

        for (int l = Config.Layers - 1; l >= 0; l--)
        {
            var L = _layers[l];
            var s = a.Layers[l];
            Span<float> input = l == 0 ? a[a.Emb] : a[a.Layers[l - 1].X2];
            if (_checkpointing) ForwardLayer(a, l, input, new SoftmaxMask { KeyPadding = a.Keep, RowsPerMaskRow = NH * T });   // rebuild this layer's activations in the scratch
            // x2 = LN(r2), r2 = x1 + gelu(x1·Wiᵀ + b)·Woᵀ + b
            LayerNorm.Backward(dres, a[s.R2], p.Value(L.Ln2W), a[s.Mean2], a[s.Rstd2], d1, p.GradientOrDiscard(L.Ln2W), p.GradientOrDiscard(L.Ln2B), C, false, _pool);
            var dInter = a[a.DI];
            if (a.Dropped) Dropout.Apply(d1, a[s.MaskOut], a[a.Branch]);
            L.Out.Backward(a.Dropped ? a[a.Branch] : d1, a[s.InterAct], dInter, BT);
            GeluExact.Backward(a[s.Inter], dInter, dInter, _pool);
            L.Inter.Backward(dInter, a[s.X1], d1, BT, accumulateInput: true);
            // x1 = LN(r1), r1 = x + ctx·Woᵀ + b
            LayerNorm.Backward(d1, a[s.R1], p.Value(L.Ln1W), a[s.Mean1], a[s.Rstd1], d0, p.GradientOrDiscard(L.Ln1W), p.GradientOrDiscard(L.Ln1B), C, false, _pool);
            if (a.Dropped) Dropout.Apply(d0, a[s.MaskAttn], a[a.Branch]);
            L.AttnOut.Backward(a.Dropped ? a[a.Branch] : d0, a[s.Ctx], d1, BT);
            Attention.BackwardRows(d1, a[s.Q], a[s.K], a[s.V], a[s.Att], a[a.H0], a[a.H1], a[a.H2], a[a.H3],
                a[a.DAtt], a[a.QRow], a[a.KRow], a[a.VRow], B, T, NH, NH, hd, _pool,
                a.AttentionDropped ? new AttentionDropout(a[s.MaskProbs], a[a.ProbsDropped]) : default);
            d0.CopyTo(dres); // the residual path
            L.Q.Backward(a[a.QRow], input, dres, BT, accumulateInput: true);
            L.K.Backward(a[a.KRow], input, dres, BT, accumulateInput: true);
            L.V.Backward(a[a.VRow], input, dres, BT, accumulateInput: true);
        }
        // x = drop(LN(word[ids] + pos[t] + type[types]))
        if (a.Dropped) Dropout.Apply(dres, a[a.EmbMask]);
        if (a.Dropped || a.AttentionDropped) DropoutStep++;   // the next training forward draws new masks
        LayerNorm.Backward(dres, a[a.EmbSum], p.Value(_embLnW), a[a.EmbMean], a[a.EmbRstd], d0, p.GradientOrDiscard(_embLnW), p.GradientOrDiscard(_embLnB), C, false, _pool);
        _wordPath.Capture(d0, BT * C);   // sum = α·word[ids] + type + pos: d(sum) is the word rows' gradient
        if (p.IsTrainable(_word)) Embedding.Backward(a.Ids, d0, p.Gradient(_word), C, _pool);
        if (p.IsTrainable(_type)) Embedding.Backward(a.Types, d0, p.Gradient(_type), C, _pool);
        if (p.IsTrainable(_pos))
        {
            var dpos = p.Gradient(_pos);
            for (int b = 0; b < B; b++) Arithmetic.Add(dpos[..(T * C)], d0.Slice(b * T * C, T * C), dpos[..(T * C)], _pool);
        }
    }

    private readonly WordEmbeddingPath _wordPath = new();

    /// <inheritdoc/>
    public void SetWordEmbeddingScales(ReadOnlySpan<float> perSequence) => _wordPath.SetScales(perSequence);

    /// <inheritdoc/>
    public bool KeepWordEmbeddingGradient { get => _wordPath.KeepGradient; set => _wordPath.KeepGradient = value; }

    /// <inheritdoc/>
    public ReadOnlySpan<float> WordEmbeddingGradient => _wordPath.Gradient;

    /// <inheritdoc/>
    public void WordEmbeddings(ReadOnlySpan<int> ids, Span<float> rows) => Embedding.Forward(ids, Parameters.Value(_word), Config.HiddenSize, rows, _pool);

    public void Dispose()
    {
        _plans.Dispose();
        foreach (var L in _layers)
            foreach (var proj in new[] { L.Q, L.K, L.V, L.AttnOut, L.Inter, L.Out }) proj.Dispose();
        _pooler.Dispose();
        _mlm?.Dispose();
        Parameters.Dispose();
    }
}
