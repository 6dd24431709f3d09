// T5 (Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
// Transformer") as Hugging Face's T5ForConditionalGeneration defines it (transformers'
// models/t5/modeling_t5.py), with explicit forward and backward passes, HF tensor names and
// nn.Linear (out, in) layout, one planned activation block per (B, S, T). Every weight matmul, the
// LM head included, is an IProjection chosen by module path (ModelOptions.Projections), so LoRA and
// quantized projections plug in as for the other families.
//
// forward (pre-norm blocks; T5LayerNorm = RMS without mean or bias, weight only, fp32):
//   encoder: x = shared[input_ids]; bias_e = table_e[bucket_bidirectional(j − i)]   (block 0's table, every block)
//            per block: x = x + o(attn(q(n), k(n), v(n); bias_e, key padding)), n = norm(x)
//                       x = x + wo(ff(norm(x)))       ff = relu(wi·) | gelu_new(wi_0·) ⊙ wi_1·
//            enc = final_layer_norm(x)
//   decoder: y = shared[decoder_input_ids]; bias_d = table_d[bucket_causal(j − i)]
//            per block: y = y + o(attn(...; bias_d, causal))                       (layer.0.SelfAttention)
//                       y = y + o(attn(q(norm(y)), k(enc), v(enc); key padding))   (layer.1.EncDecAttention, no bias)
//                       y = y + wo(ff(norm(y)))                                   (layer.2.DenseReluDense)
//            h = final_layer_norm(y); tied: h = h·d_model^-0.5 (mesh-tensorflow's rescale before the shared head)
//   logits = h·W_headᵀ (shared.weight when tied, else lm_head.weight)
//   loss = mean cross-entropy over labels ≠ −100; decoder_input_ids = shift_right(labels)
// attention has no 1/√d_kv (folded into q's initialisation). Dropout is not applied (HF's eval mode).
// backward: the same lines in exact reverse; the encoder output's gradient is the sum over every
// decoder block's cross-attention k and v.
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Heads;
using Loom.Models.Losses;
using Loom.Models.Parameters;
using Loom.Models.Plans;
using Loom.Models.Projections;

namespace Loom.Models.T5;

/// <summary>T5ForConditionalGeneration with training support and cached decoding.</summary>
public sealed partial class T5Model : ISeq2SeqModel
{
    private readonly WorkerPool _pool;
    private readonly int _shared;                 // shared.weight (V, C)
    private readonly int _encTable, _decTable;    // block 0's relative_attention_bias: (num_buckets, NH) each
    private readonly int _encFinal, _decFinal;    // final_layer_norm: (C) each
    private readonly LanguageModelHead _head;     // lm_head: (V, C), shared.weight when tied
    private readonly Block[] _encoder, _decoder;
    private readonly ActivationPlanCache<T5Activations> _plans;
    private T5Activations? Acts => _plans.Current;

    // One T5Block: layer.0 self-attention, (decoder) layer.1 cross-attention, then the feed-forward.
    private sealed record Block(
        int SelfNorm, IProjection Q, IProjection K, IProjection V, IProjection O,                   // (C); (NH·dk, C) ×3, (C, NH·dk)
        int CrossNorm, IProjection? Qx, IProjection? Kx, IProjection? Vx, IProjection? Ox,          // decoder only (−1 / null in the encoder)
        int FfNorm, IProjection Wi, IProjection? Wi1, IProjection Wo);                              // (C); wi or wi_0 (F, C), wi_1 (F, C) when gated, wo (C, F)

    /// <summary>The config record.</summary>
    public T5Config Config { get; }

    /// <inheritdoc/>
    public object Configuration => Config;

    /// <inheritdoc/>
    public int VocabularySize => Config.VocabSize;

    /// <inheritdoc/>
    public int DecoderStartTokenId => Config.DecoderStartTokenId;

    /// <inheritdoc/>
    public int EosTokenId => Config.EosTokenId;

    /// <inheritdoc/>
    public int PadTokenId => Config.PadTokenId;

    /// <inheritdoc/>
    public ParameterSet Parameters { get; }

    /// <summary>Creates a trainable model with zeroed parameters.</summary>
    public T5Model(T5Config config, WorkerPool? pool = null) : this(config, ModelOptions.Default, pool) { }

    /// <summary>Creates a model with zeroed parameters, roles and projections chosen by <paramref name="options"/>.</summary>
    public T5Model(T5Config config, ModelOptions options, WorkerPool? pool = null)
    {
        config.Validate();
        Config = config;
        _pool = pool ?? WorkerPool.Shared;
        if (options.HiddenStatesOnly) throw new NotSupportedException("ModelOptions.HiddenStatesOnly: Loom's T5 is built with its LM head (T5ForConditionalGeneration) only.");
        if (options.Dropout.Hidden > 0 || options.Dropout.Attention > 0)
            throw new NotSupportedException("ModelOptions.Dropout: Loom's T5 computes without dropout (HF's eval mode); set the dropout options to 0.");
        _plans = new ActivationPlanCache<T5Activations>((b, packed) => new T5Activations(Config, b, packed >> 16, packed & 0xFFFF), capacity: 8);
        Parameters = new ParameterSet(ParameterSpecs(config), options.Trainable);
        int X(string n) => Parameters.IndexOf(n);
        int C = config.DModel, I = config.InnerDim, F = config.DFf;
        IProjection Lin(string path, int inF, int outF, string? weight = null) =>
            options.Project(new ProjectionSpec(path, ProjectionLayout.OutIn, inF, outF, X(weight ?? path + ".weight")), Parameters, _pool);
        _shared = X("shared.weight");
        _encTable = X("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        _decTable = X("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        _encFinal = X("encoder.final_layer_norm.weight");
        _decFinal = X("decoder.final_layer_norm.weight");
        _head = new LanguageModelHead(Lin("lm_head", C, config.VocabSize, config.TieWordEmbeddings ? "shared.weight" : null));
        Block Make(string stack, int l)
        {
            string p = $"{stack}.block.{l}.layer.";
            bool dec = stack == "decoder";
            string a = p + "0.SelfAttention.", x = p + "1.EncDecAttention.", f = p + (dec ? "2" : "1") + ".";
            return new Block(X(p + "0.layer_norm.weight"), Lin(a + "q", C, I), Lin(a + "k", C, I), Lin(a + "v", C, I), Lin(a + "o", I, C),
                dec ? X(p + "1.layer_norm.weight") : -1, dec ? Lin(x + "q", C, I) : null, dec ? Lin(x + "k", C, I) : null, dec ? Lin(x + "v", C, I) : null, dec ? Lin(x + "o", I, C) : null,
                X(f + "layer_norm.weight"), Lin(f + (config.IsGated ? "DenseReluDense.wi_0" : "DenseReluDense.wi"), C, F),
                config.IsGated ? Lin(f + "DenseReluDense.wi_1", C, F) : null, Lin(f + "DenseReluDense.wo", F, C));
        }
        _encoder = Enumerable.Range(0, config.NumLayers).Select(l => Make("encoder", l)).ToArray();
        _decoder = Enumerable.Range(0, config.NumDecoderLayers).Select(l => Make("decoder", l)).ToArray();
    }

    /// <summary>
    /// The parameter tensors of a configuration in HF's order and names (name, shape, weight decay):
    /// weight decay on the projection matrices and lm_head, none on shared, the norms and the bias tables.
    /// </summary>
    public static List<(string Name, long[] Shape, bool WeightDecay)> ParameterSpecs(T5Config config)
    {
        long V = config.VocabSize, C = config.DModel, I = config.InnerDim, F = config.DFf, NB = config.RelativeAttentionNumBuckets, NH = config.NumHeads;
        var specs = new List<(string, long[], bool)> { ("shared.weight", [V, C], false) };
        void Stack(string stack, int layers)
        {
            bool dec = stack == "decoder";
            for (int l = 0; l < layers; l++)
            {
                string p = $"{stack}.block.{l}.layer.";
                foreach (var (idx, kind) in dec ? new[] { ("0", "SelfAttention"), ("1", "EncDecAttention") } : new[] { ("0", "SelfAttention") })
                {
                    string a = $"{p}{idx}.{kind}.";
                    specs.Add((a + "q.weight", [I, C], true)); specs.Add((a + "k.weight", [I, C], true));
                    specs.Add((a + "v.weight", [I, C], true)); specs.Add((a + "o.weight", [C, I], true));
                    if (l == 0 && kind == "SelfAttention") specs.Add((a + "relative_attention_bias.weight", [NB, NH], false));
                    specs.Add(($"{p}{idx}.layer_norm.weight", [C], false));
                }
                string f = p + (dec ? "2" : "1") + ".";
                if (config.IsGated)
                {
                    specs.Add((f + "DenseReluDense.wi_0.weight", [F, C], true));
                    specs.Add((f + "DenseReluDense.wi_1.weight", [F, C], true));
                }
                else specs.Add((f + "DenseReluDense.wi.weight", [F, C], true));
                specs.Add((f + "DenseReluDense.wo.weight", [C, F], true));
                specs.Add((f + "layer_norm.weight", [C], false));
            }
            specs.Add(($"{stack}.final_layer_norm.weight", [C], false));
        }
        Stack("encoder", config.NumLayers);
        Stack("decoder", config.NumDecoderLayers);
        if (!config.TieWordEmbeddings) specs.Add(("lm_head.weight", [V, C], true));
        return specs;
    }

    /// <summary>
    /// transformers' T5PreTrainedModel._init_weights (factor = initializer_factor): shared and lm_head
    /// N(0, factor); q N(0, factor·(d_model·d_kv)^-½); k, v N(0, factor·d_model^-½); o N(0, factor·(NH·d_kv)^-½);
    /// wi, wi_0, wi_1 N(0, factor·d_model^-½); wo N(0, factor·d_ff^-½); bias tables N(0, factor·d_model^-½); norms factor.
    /// </summary>
    public void InitializeWeights(int seed)
    {
        var rng = new Random(seed);
        float f = Config.InitializerFactor, C = Config.DModel;
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
        {
            var v = Parameters.Value(i);
            string n = spec.Name;
            if (spec.Shape.Length == 1) { v.Fill(f); continue; }
            float std = n switch
            {
                "shared.weight" or "lm_head.weight" => f,
                _ when n.EndsWith(".q.weight", StringComparison.Ordinal) => f / MathF.Sqrt(C * Config.DKv),
                _ when n.EndsWith(".o.weight", StringComparison.Ordinal) => f / MathF.Sqrt(Config.InnerDim),
                _ when n.EndsWith(".wo.weight", StringComparison.Ordinal) => f / MathF.Sqrt(Config.DFf),
                _ => f / MathF.Sqrt(C),   // k, v, wi, wi_0, wi_1, relative_attention_bias
            };
            for (int j = 0; j < v.Length; j++) v[j] = std * Gpt2.Gpt2Model.Gaussian(rng);
        }
    }

    /// <summary>
    /// Loads weights by HF name (after <paramref name="prefix"/>). shared.weight may be stored as
    /// encoder.embed_tokens.weight or decoder.embed_tokens.weight (older checkpoints); a tied model
    /// ignores a stored lm_head.weight, and tensors HF itself ignores (the unused cross-attention bias
    /// table of the original checkpoints) are skipped.
    /// </summary>
    public void LoadWeights(SafetensorsFile file, string prefix = "")
    {
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
        {
            if (Parameters.IsHeldByProjection(i)) continue;
            string name = prefix + spec.Name;
            if (spec.Name == "shared.weight" && !file.Tensors.ContainsKey(name))
                name = new[] { "encoder.embed_tokens.weight", "decoder.embed_tokens.weight" }.Select(n => prefix + n).FirstOrDefault(file.Tensors.ContainsKey) ?? name;
            file.ReadSingle(name, Parameters.Value(i), spec.Shape);
        }
    }

    /// <summary>Loads a Hugging Face T5 directory (config.json + model.safetensors).</summary>
    public static T5Model Load(string directory, ModelOptions? options = null, WorkerPool? pool = null)
    {
        string config = Path.Combine(directory, "config.json"), weights = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(config)) throw new FileNotFoundException($"{directory}: no config.json; a T5 directory holds config.json and model.safetensors (Hugging Face's save_pretrained layout).", config);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{directory}: no model.safetensors (pytorch_model.bin is not read; convert it with transformers' save_pretrained(safe_serialization=True)).", weights);
        var model = new T5Model(T5Config.Load(config), options ?? ModelOptions.Default, pool);
        try
        {
            using var file = SafetensorsFile.Open(weights);
            model.LoadWeights(file);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Saves model.safetensors (HF names; tied models store shared.weight only) and config.json.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"),
            Parameters.Specs.Select((s, i) => new SafetensorsWriter.Item(s.Name, s.Shape, Parameters.Value(i).ToArray())),
            new Dictionary<string, string> { ["format"] = "pt" });
        Config.Save(Path.Combine(directory, "config.json"));
    }

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    public ReadOnlySpan<float> Logits => Acts is { } a ? a[a.Logits] : throw new InvalidOperationException("Run Forward first.");

    /// <summary>
    /// transformers' T5PreTrainedModel._shift_right: decoder inputs = labels shifted one position right
    /// per row, decoder_start_token_id first, −100 replaced by pad_token_id.
    /// </summary>
    public static void ShiftRight(ReadOnlySpan<int> labels, Span<int> decoderInputIds, int batch, int time, int decoderStartTokenId, int padTokenId)
    {
        if (labels.Length != batch * time || decoderInputIds.Length != batch * time)
            throw new ArgumentException($"labels and decoder_input_ids must each hold B×T = {batch * time} ids; got {labels.Length}, {decoderInputIds.Length}.");
        for (int b = 0; b < batch; b++)
        {
            int o = b * time;
            decoderInputIds[o] = decoderStartTokenId;
            for (int t = 1; t < time; t++)
            {
                int id = labels[o + t - 1];
                decoderInputIds[o + t] = id == CrossEntropyLoss.IgnoreIndex ? padTokenId : id;
            }
        }
    }

    /// <inheritdoc/>
    public float Forward(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> attentionMask, ReadOnlySpan<int> labels, int batch, int sourceLength, int targetLength)
    {
        if (labels.Length != (long)batch * targetLength) throw new ArgumentException($"labels has {labels.Length} elements; B×T = {(long)batch * targetLength}.");
        var a = Plan(batch, sourceLength, targetLength);
        ShiftRight(labels, a.DecIds, batch, targetLength, Config.DecoderStartTokenId, Config.PadTokenId);
        return Run(a, inputIds, attentionMask, a.DecIds, labels);
    }

    /// <summary>
    /// Forward with explicit decoder inputs (teacher forcing without labels, or labels not derived by
    /// shifting): logits (B·T, V) in <see cref="Logits"/>; with labels returns the mean loss, else NaN.
    /// </summary>
    public float Forward(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> attentionMask, ReadOnlySpan<int> decoderInputIds, ReadOnlySpan<int> labels,
        int batch, int sourceLength, int targetLength)
    {
        if (decoderInputIds.Length != (long)batch * targetLength) throw new ArgumentException($"decoder_input_ids has {decoderInputIds.Length} elements; B×T = {(long)batch * targetLength}.");
        if (!labels.IsEmpty && labels.Length != (long)batch * targetLength) throw new ArgumentException($"labels has {labels.Length} elements; B×T = {(long)batch * targetLength}.");
        return Run(Plan(batch, sourceLength, targetLength), inputIds, attentionMask, decoderInputIds, labels);
    }

    private T5Activations Plan(int batch, int sourceLength, int targetLength)
    {
        if (batch < 1 || sourceLength < 1 || targetLength < 1)
            throw new ArgumentException($"A T5 batch needs B ≥ 1, S ≥ 1 and T ≥ 1; got B = {batch}, S = {sourceLength}, T = {targetLength}.");
        if (sourceLength > 0xFFFF || targetLength > 0xFFFF)
            throw new ArgumentException($"Sequence lengths above 65535 are not supported (source {sourceLength}, target {targetLength}).");
        return _plans.Use(batch, (sourceLength << 16) | targetLength);
    }

    private float Run(T5Activations a, ReadOnlySpan<int> inputIds, ReadOnlySpan<int> attentionMask, ReadOnlySpan<int> decoderInputIds, ReadOnlySpan<int> labels)
    {
        int B = a.B, S = a.S, T = a.T, V = Config.VocabSize;
        if (inputIds.Length != B * S) throw new ArgumentException($"input_ids has {inputIds.Length} elements; B×S = {B * S}.");
        if (!attentionMask.IsEmpty && attentionMask.Length != B * S) throw new ArgumentException($"attention_mask has {attentionMask.Length} elements; B×S = {B * S}.");
        CheckIds(inputIds, "input_ids");
        CheckIds(decoderInputIds, "decoder_input_ids");
        inputIds.CopyTo(a.EncIds);
        if (!decoderInputIds.Overlaps(a.DecIds)) decoderInputIds.CopyTo(a.DecIds);
        for (int i = 0; i < B * S; i++) a.Keep[i] = (byte)(attentionMask.IsEmpty || attentionMask[i] != 0 ? 1 : 0);
        ForwardEncoder(a);
        ForwardDecoder(a);
        a.HasTargets = !labels.IsEmpty;
        if (!a.HasTargets) return float.NaN;
        labels.CopyTo(a.Targets);
        return CrossEntropyLoss.Forward(a[a.Logits], labels, V, a[a.Losses], _pool);
    }

    private void CheckIds(ReadOnlySpan<int> ids, string what)
    {
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)Config.VocabSize)
                throw new ArgumentOutOfRangeException(what, $"{what}[{i}] is {ids[i]}; token ids must be in [0, vocab_size = {Config.VocabSize}).");
    }

    /// <summary>Adds the gradient of lossScale × the last forward's mean loss to the gradients; overwrites the logits.</summary>
    public void Backward(float lossScale = 1f)
    {
        var a = Acts ?? throw new InvalidOperationException("Run Forward with labels before Backward.");
        if (!a.HasTargets) throw new InvalidOperationException("Backward needs the last Forward to have had labels.");
        Parameters.EnsureGradients();
        CrossEntropyLoss.Backward(a[a.Logits], a.Targets, Config.VocabSize, a[a.Losses], lossScale, _pool);
        BackwardDecoder(a);
        BackwardEncoder(a);
    }

    public void Dispose()
    {
        _plans.Dispose();
        foreach (var b in _encoder.Concat(_decoder))
            foreach (var proj in new[] { b.Q, b.K, b.V, b.O, b.Qx, b.Kx, b.Vx, b.Ox, b.Wi, b.Wi1, b.Wo }) proj?.Dispose();
        _head.Dispose();
        Parameters.Dispose();
    }
}
