// BERT (Devlin et al. 2019) encoder with the masked-LM head and the pooler, explicit forward and
// backward, Hugging Face names (BertForMaskedLM + bert.pooler). Post-LN blocks:
//   x = LN(word[ids] + pos[t] + type[types])
//   per layer: a = LN(x + (attention_bidirectional(x·Wqᵀ+b, x·Wkᵀ+b, x·Wvᵀ+b; key padding))·Woᵀ + b)
//              x = LN(a + gelu(a·Wiᵀ + b)·Wo2ᵀ + b)
//   MLM: logits = LN(gelu(x·Wtᵀ + b))·wordᵀ + bias (decoder tied to the word embeddings)
//   pooled = tanh(x[:, 0]·Wpᵀ + b)
// backward: the same lines in exact reverse (the pooler is for classification heads; the MLM loss
// does not reach it).
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models.Bert;

/// <summary>A BERT encoder with masked-LM head and pooler.</summary>
public sealed class BertModel : IDisposable
{
    private readonly WorkerPool _pool;
    private readonly int _word, _pos, _type, _embLnW, _embLnB, _poolW, _poolB, _tW, _tB, _tLnW, _tLnB, _mlmBias;
    private readonly LayerIndex[] _layers;
    private Acts? _acts;

    private readonly record struct LayerIndex(int QW, int QB, int KW, int KB, int VW, int VB, int AoW, int AoB, int Ln1W, int Ln1B, int IW, int IB, int OW, int OB, int Ln2W, int Ln2B);

    public BertConfig Config { get; }
    public ParameterSet Parameters { get; }

    public BertModel(BertConfig config, WorkerPool? pool = null)
    {
        config.Validate();
        Config = config;
        _pool = pool ?? WorkerPool.Shared;
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
        specs.AddRange(new (string, long[], bool)[]
        {
            ("bert.pooler.dense.weight", [C, C], true), ("bert.pooler.dense.bias", [C], false),
            ("cls.predictions.transform.dense.weight", [C, C], true), ("cls.predictions.transform.dense.bias", [C], false),
            ("cls.predictions.transform.LayerNorm.weight", [C], false), ("cls.predictions.transform.LayerNorm.bias", [C], false),
            ("cls.predictions.bias", [V], false),
        });
        Parameters = new ParameterSet(specs);
        int X(string n) => Parameters.IndexOf(n);
        _word = X("bert.embeddings.word_embeddings.weight"); _pos = X("bert.embeddings.position_embeddings.weight"); _type = X("bert.embeddings.token_type_embeddings.weight");
        _embLnW = X("bert.embeddings.LayerNorm.weight"); _embLnB = X("bert.embeddings.LayerNorm.bias");
        _poolW = X("bert.pooler.dense.weight"); _poolB = X("bert.pooler.dense.bias");
        _tW = X("cls.predictions.transform.dense.weight"); _tB = X("cls.predictions.transform.dense.bias");
        _tLnW = X("cls.predictions.transform.LayerNorm.weight"); _tLnB = X("cls.predictions.transform.LayerNorm.bias"); _mlmBias = X("cls.predictions.bias");
        _layers = new LayerIndex[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            int Y(string n) => Parameters.IndexOf($"bert.encoder.layer.{l}.{n}");
            _layers[l] = new LayerIndex(Y("attention.self.query.weight"), Y("attention.self.query.bias"), Y("attention.self.key.weight"), Y("attention.self.key.bias"),
                Y("attention.self.value.weight"), Y("attention.self.value.bias"), Y("attention.output.dense.weight"), Y("attention.output.dense.bias"),
                Y("attention.output.LayerNorm.weight"), Y("attention.output.LayerNorm.bias"), Y("intermediate.dense.weight"), Y("intermediate.dense.bias"),
                Y("output.dense.weight"), Y("output.dense.bias"), Y("output.LayerNorm.weight"), Y("output.LayerNorm.bias"));
        }
    }

    /// <summary>Loads weights with HF names; a checkpoint without a pooler (BertForMaskedLM) leaves it zero.</summary>
    public void LoadWeights(SafetensorsFile file, string prefix = "")
    {
        foreach (var (spec, i) in Parameters.Specs.Select((s, i) => (s, i)))
        {
            if (spec.Name.StartsWith("bert.pooler.", StringComparison.Ordinal) && !file.Tensors.ContainsKey(prefix + spec.Name)) continue;
            file.ReadSingle(prefix + spec.Name, Parameters.Value(i), spec.Shape);
        }
    }

    public ReadOnlySpan<float> Logits => (_acts ?? throw new InvalidOperationException("Run Forward first.")).Span(_acts.Logits);

    /// <summary>Pooled [CLS] output of the last forward, (B, C).</summary>
    public ReadOnlySpan<float> Pooled => (_acts ?? throw new InvalidOperationException("Run Forward first.")).Span(_acts.Pooled);

    /// <summary>
    /// Forward on ids, token types and an attention mask (1 = real token, 0 = padding), each B·T.
    /// With targets (−100 = not predicted) returns the mean masked-LM loss, else NaN.
    /// </summary>
    public float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> tokenTypes, ReadOnlySpan<int> attentionMask, ReadOnlySpan<int> targets, int batch, int time)
    {
        if (time > Config.MaxPositions) throw new ArgumentException($"Sequence length {time} exceeds max_position_embeddings {Config.MaxPositions}.");
        int BT = batch * time;
        if (ids.Length != BT || tokenTypes.Length != BT || attentionMask.Length != BT)
            throw new ArgumentException($"ids, token types and attention mask must each hold B×T = {BT} values; got {ids.Length}, {tokenTypes.Length}, {attentionMask.Length}.");
        if (_acts is null || _acts.B != batch || _acts.T != time) { _acts?.Dispose(); _acts = new Acts(Config, batch, time); }
        var a = _acts;
        int B = batch, T = time, C = Config.HiddenSize, V = Config.VocabSize, NH = Config.Heads, hd = C / NH, I = Config.IntermediateSize;
        var p = Parameters;
        float eps = Config.LayerNormEpsilon;
        ids.CopyTo(a.Ids);
        tokenTypes.CopyTo(a.Types);
        for (int i = 0; i < BT; i++) a.Keep[i] = (byte)(attentionMask[i] != 0 ? 1 : 0);
        var mask = new SoftmaxMask { KeyPadding = a.Keep, RowsPerMaskRow = NH * T };

        var sum = a.Span(a.EmbSum);
        Embedding.Forward(ids, p.Value(_word), C, sum, _pool);
        var typeRows = a.Span(a.DC0);
        Embedding.Forward(tokenTypes, p.Value(_type), C, typeRows, _pool);
        Arithmetic.Add(sum, typeRows, sum, _pool);
        for (int b = 0; b < B; b++) Arithmetic.Add(sum.Slice(b * T * C, T * C), p.Value(_pos)[..(T * C)], sum.Slice(b * T * C, T * C), _pool);
        LayerNorm.Forward(sum, p.Value(_embLnW), p.Value(_embLnB), a.Span(a.Emb), a.Span(a.EmbMean), a.Span(a.EmbRstd), C, eps, _pool);

        Span<float> x = a.Span(a.Emb);
        for (int l = 0; l < Config.Layers; l++)
        {
            var L = _layers[l];
            var s = a.Layer(l);
            Linear.Forward(x, p.Value(L.QW), p.Value(L.QB), a.Span(a.QRow), BT, C, C, _pool);
            Linear.Forward(x, p.Value(L.KW), p.Value(L.KB), a.Span(a.KRow), BT, C, C, _pool);
            Linear.Forward(x, p.Value(L.VW), p.Value(L.VB), a.Span(a.VRow), BT, C, C, _pool);
            Attention.ForwardRows(a.Span(a.QRow), a.Span(a.KRow), a.Span(a.VRow), a.Span(s.Q), a.Span(s.K), a.Span(s.V), a.Span(s.Att),
                a.Span(a.H0), a.Span(s.Ctx), B, T, NH, NH, hd, mask, _pool);
            x.CopyTo(a.Span(s.R1));
            Linear.Forward(a.Span(s.Ctx), p.Value(L.AoW), p.Value(L.AoB), a.Span(s.R1), BT, C, C, _pool, accumulate: true);
            LayerNorm.Forward(a.Span(s.R1), p.Value(L.Ln1W), p.Value(L.Ln1B), a.Span(s.X1), a.Span(s.Mean1), a.Span(s.Rstd1), C, eps, _pool);
            Linear.Forward(a.Span(s.X1), p.Value(L.IW), p.Value(L.IB), a.Span(s.Inter), BT, C, I, _pool);
            GeluExact.Forward(a.Span(s.Inter), a.Span(s.InterAct), _pool);
            a.Span(s.X1).CopyTo(a.Span(s.R2));
            Linear.Forward(a.Span(s.InterAct), p.Value(L.OW), p.Value(L.OB), a.Span(s.R2), BT, I, C, _pool, accumulate: true);
            LayerNorm.Forward(a.Span(s.R2), p.Value(L.Ln2W), p.Value(L.Ln2B), a.Span(s.X2), a.Span(s.Mean2), a.Span(s.Rstd2), C, eps, _pool);
            x = a.Span(s.X2);
        }
        // Pooler: tanh(x[:, 0]·Wpᵀ + b)
        var cls = a.Span(a.Cls);
        for (int b = 0; b < B; b++) x.Slice(b * T * C, C).CopyTo(cls.Slice(b * C, C));
        Linear.Forward(cls, p.Value(_poolW), p.Value(_poolB), a.Span(a.Pooled), B, C, C, _pool);
        System.Numerics.Tensors.TensorPrimitives.Tanh(a.Span(a.Pooled), a.Span(a.Pooled));
        // MLM head
        Linear.Forward(x, p.Value(_tW), p.Value(_tB), a.Span(a.Tr), BT, C, C, _pool);
        GeluExact.Forward(a.Span(a.Tr), a.Span(a.TrAct), _pool);
        LayerNorm.Forward(a.Span(a.TrAct), p.Value(_tLnW), p.Value(_tLnB), a.Span(a.TrLn), a.Span(a.TrMean), a.Span(a.TrRstd), C, eps, _pool);
        Linear.Forward(a.Span(a.TrLn), p.Value(_word), p.Value(_mlmBias), a.Span(a.Logits), BT, C, V, _pool);
        a.HasTargets = !targets.IsEmpty;
        if (!a.HasTargets) return float.NaN;
        targets.CopyTo(a.Targets);
        return CrossEntropy.ForwardBackward(a.Span(a.Logits), targets, V, a.Span(a.Losses), default, CrossEntropy.DefaultIgnoreIndex, 1f, _pool);
    }

    /// <summary>Adds the gradient of lossScale × the last masked-LM loss; overwrites the logits.</summary>
    public void Backward(float lossScale = 1f)
    {
        var a = _acts ?? throw new InvalidOperationException("Run Forward with targets before Backward.");
        if (!a.HasTargets) throw new InvalidOperationException("Backward needs the last Forward to have had targets.");
        int B = a.B, T = a.T, C = Config.HiddenSize, V = Config.VocabSize, NH = Config.Heads, hd = C / NH, I = Config.IntermediateSize, BT = B * T;
        var p = Parameters;
        var dres = a.Span(a.DRes);
        var d0 = a.Span(a.DC0);
        var d1 = a.Span(a.DC1);

        // MLM head, reversed
        CrossEntropy.ForwardBackward(a.Span(a.Logits), a.Targets, V, a.Span(a.Losses), a.Span(a.Logits), CrossEntropy.DefaultIgnoreIndex, lossScale, _pool);
        Linear.Backward(a.Span(a.Logits), a.Span(a.TrLn), p.Value(_word), d0, p.Gradient(_word), p.Gradient(_mlmBias), BT, C, V, false, _pool);
        LayerNorm.Backward(d0, a.Span(a.TrAct), p.Value(_tLnW), a.Span(a.TrMean), a.Span(a.TrRstd), d0, p.Gradient(_tLnW), p.Gradient(_tLnB), C, false, _pool);
        GeluExact.Backward(a.Span(a.Tr), d0, d0, _pool);
        Span<float> xL = Config.Layers > 0 ? a.Span(a.Layer(Config.Layers - 1).X2) : a.Span(a.Emb);
        Linear.Backward(d0, xL, p.Value(_tW), dres, p.Gradient(_tW), p.Gradient(_tB), BT, C, C, false, _pool);

        for (int l = Config.Layers - 1; l >= 0; l--)
        {
            var L = _layers[l];
            var s = a.Layer(l);
            Span<float> input = l == 0 ? a.Span(a.Emb) : a.Span(a.Layer(l - 1).X2);
            // x2 = LN(r2), r2 = x1 + gelu(x1·Wiᵀ + b)·Woᵀ + b
            LayerNorm.Backward(dres, a.Span(s.R2), p.Value(L.Ln2W), a.Span(s.Mean2), a.Span(s.Rstd2), d1, p.Gradient(L.Ln2W), p.Gradient(L.Ln2B), C, false, _pool);
            var dInter = a.Span(a.DI);
            Linear.Backward(d1, a.Span(s.InterAct), p.Value(L.OW), dInter, p.Gradient(L.OW), p.Gradient(L.OB), BT, I, C, false, _pool);
            GeluExact.Backward(a.Span(s.Inter), dInter, dInter, _pool);
            Linear.Backward(dInter, a.Span(s.X1), p.Value(L.IW), d1, p.Gradient(L.IW), p.Gradient(L.IB), BT, C, I, accumulateInput: true, _pool);
            // x1 = LN(r1), r1 = x + ctx·Woᵀ + b
            LayerNorm.Backward(d1, a.Span(s.R1), p.Value(L.Ln1W), a.Span(s.Mean1), a.Span(s.Rstd1), d0, p.Gradient(L.Ln1W), p.Gradient(L.Ln1B), C, false, _pool);
            Linear.Backward(d0, a.Span(s.Ctx), p.Value(L.AoW), d1, p.Gradient(L.AoW), p.Gradient(L.AoB), BT, C, C, false, _pool);
            Attention.BackwardRows(d1, a.Span(s.Q), a.Span(s.K), a.Span(s.V), a.Span(s.Att), a.Span(a.H0), a.Span(a.H1), a.Span(a.H2), a.Span(a.H3),
                a.Span(a.DAtt), a.Span(a.QRow), a.Span(a.KRow), a.Span(a.VRow), B, T, NH, NH, hd, _pool);
            d0.CopyTo(dres); // the residual path
            Linear.Backward(a.Span(a.QRow), input, p.Value(L.QW), dres, p.Gradient(L.QW), p.Gradient(L.QB), BT, C, C, accumulateInput: true, _pool);
            Linear.Backward(a.Span(a.KRow), input, p.Value(L.KW), dres, p.Gradient(L.KW), p.Gradient(L.KB), BT, C, C, accumulateInput: true, _pool);
            Linear.Backward(a.Span(a.VRow), input, p.Value(L.VW), dres, p.Gradient(L.VW), p.Gradient(L.VB), BT, C, C, accumulateInput: true, _pool);
        }
        // x = LN(word[ids] + pos[t] + type[types])
        LayerNorm.Backward(dres, a.Span(a.EmbSum), p.Value(_embLnW), a.Span(a.EmbMean), a.Span(a.EmbRstd), d0, p.Gradient(_embLnW), p.Gradient(_embLnB), C, false, _pool);
        Embedding.Backward(a.Ids, d0, p.Gradient(_word), C, _pool);
        Embedding.Backward(a.Types, d0, p.Gradient(_type), C, _pool);
        var dpos = p.Gradient(_pos);
        for (int b = 0; b < B; b++) Arithmetic.Add(dpos[..(T * C)], d0.Slice(b * T * C, T * C), dpos[..(T * C)], _pool);
    }

    public void Dispose()
    {
        _acts?.Dispose();
        Parameters.Dispose();
    }

    private sealed class Acts : IDisposable
    {
        private readonly BufferPlan _plan = new();
        public readonly int B, T;
        public bool HasTargets;
        public readonly int[] Ids, Types, Targets;
        public readonly byte[] Keep;
        public readonly (long, long) EmbSum, Emb, EmbMean, EmbRstd, QRow, KRow, VRow, Cls, Pooled, Tr, TrAct, TrLn, TrMean, TrRstd, Logits, Losses,
            DRes, DC0, DC1, DI, H0, H1, H2, H3, DAtt;
        private readonly LayerRegions[] _layers;

        public readonly record struct LayerRegions((long, long) Q, (long, long) K, (long, long) V, (long, long) Att, (long, long) Ctx, (long, long) R1,
            (long, long) X1, (long, long) Mean1, (long, long) Rstd1, (long, long) Inter, (long, long) InterAct, (long, long) R2, (long, long) X2, (long, long) Mean2, (long, long) Rstd2);

        public Acts(BertConfig c, int b, int t)
        {
            B = b; T = t;
            long BT = (long)b * t, C = c.HiddenSize, I = c.IntermediateSize, NH = c.Heads, V = c.VocabSize;
            (long, long) R(long n) => (_plan.Add(n), n);
            EmbSum = R(BT * C); Emb = R(BT * C); EmbMean = R(BT); EmbRstd = R(BT);
            QRow = R(BT * C); KRow = R(BT * C); VRow = R(BT * C);
            _layers = new LayerRegions[c.Layers];
            for (int l = 0; l < c.Layers; l++)
                _layers[l] = new LayerRegions(R(BT * C), R(BT * C), R(BT * C), R(BT * NH * t), R(BT * C), R(BT * C), R(BT * C), R(BT), R(BT),
                    R(BT * I), R(BT * I), R(BT * C), R(BT * C), R(BT), R(BT));
            Cls = R(b * C); Pooled = R(b * C);
            Tr = R(BT * C); TrAct = R(BT * C); TrLn = R(BT * C); TrMean = R(BT); TrRstd = R(BT);
            Logits = R(BT * V); Losses = R(BT);
            DRes = R(BT * C); DC0 = R(BT * C); DC1 = R(BT * C); DI = R(BT * I);
            H0 = R(BT * C); H1 = R(BT * C); H2 = R(BT * C); H3 = R(BT * C); DAtt = R(BT * NH * t);
            _plan.Allocate();
            Ids = new int[BT]; Types = new int[BT]; Targets = new int[BT]; Keep = new byte[BT];
        }

        public LayerRegions Layer(int l) => _layers[l];
        public Span<float> Span((long Offset, long Count) r) => _plan.Span(r.Offset, r.Count);
        public void Dispose() => _plan.Dispose();
    }
}
