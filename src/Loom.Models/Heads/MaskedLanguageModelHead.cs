// BERT's masked-LM head (Hugging Face's BertOnlyMLMHead / cls.predictions), apart from the body:
//   t = LN(gelu(hidden·Wtᵀ + b))                  transform
//   logits = t·wordᵀ + bias                       decoder, tied to the word embeddings
// Its activations are planned per row count in one block, like a body's.
using Loom.Core.Kernels;
using Loom.Core.Threading;
using Loom.Models.Plans;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Models.Heads;

/// <summary>Hidden states (N, C) to vocabulary logits (N, V) through BERT's transform and tied decoder.</summary>
public sealed class MaskedLanguageModelHead : IDisposable
{
    private readonly ParameterSet _p;
    private readonly WorkerPool _pool;
    private readonly IProjection _transform, _decoder;
    private readonly int _lnW, _lnB, _c, _v;
    private readonly float _eps;
    private readonly ActivationPlanCache<Plan> _plans;

    private sealed class Plan : ActivationPlan
    {
        public readonly ActivationRegion Tr, TrAct, TrLn, Mean, Rstd, Logits, D;   // (N, C) ×3, (N) ×2, (N, V), (N, C)
        public Plan(int rows, int c, int v)
        {
            Tr = Add((long)rows * c); TrAct = Add((long)rows * c); TrLn = Add((long)rows * c);
            Mean = Add(rows); Rstd = Add(rows); Logits = Add((long)rows * v); D = Add((long)rows * c);
            Allocate();
        }
    }

    /// <param name="transform">cls.predictions.transform.dense (C → C).</param>
    /// <param name="decoder">cls.predictions.decoder (C → V), tied to the word embeddings, with cls.predictions.bias.</param>
    /// <param name="parameters">The model's parameters.</param>
    /// <param name="layerNormWeight">Index of cls.predictions.transform.LayerNorm.weight.</param>
    /// <param name="layerNormBias">Index of cls.predictions.transform.LayerNorm.bias.</param>
    /// <param name="epsilon">layer_norm_eps.</param>
    /// <param name="pool">Worker pool.</param>
    public MaskedLanguageModelHead(IProjection transform, IProjection decoder, ParameterSet parameters, int layerNormWeight, int layerNormBias, float epsilon, WorkerPool pool)
    {
        _transform = transform;
        _decoder = decoder;
        _p = parameters;
        _lnW = layerNormWeight;
        _lnB = layerNormBias;
        _eps = epsilon;
        _pool = pool;
        _c = transform.Spec.InFeatures;
        _v = decoder.Spec.OutFeatures;
        _plans = new ActivationPlanCache<Plan>((rows, _) => new Plan(rows, _c, _v));
    }

    private int _rows;   // rows of the last forward (≤ its plan's)

    /// <summary>Logits of the last forward, (N, V) (their gradient after a backward).</summary>
    public Span<float> Logits => _plans.Current is { } a ? a[a.Logits][..(_rows * _v)] : throw new InvalidOperationException("Run the head's Forward first.");

    /// <summary>logits (N, V) from hidden (N, C).</summary>
    public Span<float> Forward(ReadOnlySpan<float> hidden, int rows) => Forward(hidden, rows, rows);

    /// <summary>
    /// logits (N, V) from hidden (N, C), planned for <paramref name="plannedRows"/> ≥ N rows: a caller whose row
    /// count changes every batch (the masked positions of masked-LM pre-training) keeps one plan instead of one per count.
    /// </summary>
    public Span<float> Forward(ReadOnlySpan<float> hidden, int rows, int plannedRows)
    {
        if (rows > plannedRows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"More rows than planned ({plannedRows}).");
        var a = _plans.Use(plannedRows, 0);
        _rows = rows;
        int nc = rows * _c;
        var tr = a[a.Tr][..nc];
        var act = a[a.TrAct][..nc];
        var ln = a[a.TrLn][..nc];
        var logits = a[a.Logits][..(rows * _v)];
        _transform.Forward(hidden[..nc], tr, rows);
        GeluExact.Forward(tr, act, _pool);
        LayerNorm.Forward(act, _p.Value(_lnW), _p.Value(_lnB), ln, a[a.Mean][..rows], a[a.Rstd][..rows], _c, _eps, _pool);
        _decoder.Forward(ln, logits, rows);
        return logits;
    }

    /// <summary>Backward from the logits' gradient (in <see cref="Logits"/>): writes dhidden (N, C), adds the head's gradients.</summary>
    public void Backward(ReadOnlySpan<float> hidden, Span<float> hiddenGradient)
    {
        var a = _plans.Current ?? throw new InvalidOperationException("Run the head's Forward first.");
        int rows = _rows, nc = rows * _c;
        var d = a[a.D][..nc];
        var act = a[a.TrAct][..nc];
        _decoder.Backward(a[a.Logits][..(rows * _v)], a[a.TrLn][..nc], d, rows);
        LayerNorm.Backward(d, act, _p.Value(_lnW), a[a.Mean][..rows], a[a.Rstd][..rows], d, _p.GradientOrDiscard(_lnW), _p.GradientOrDiscard(_lnB), _c, false, _pool);
        GeluExact.Backward(a[a.Tr][..nc], d, d, _pool);
        _transform.Backward(d, hidden[..nc], hiddenGradient[..nc], rows);
    }

    public void Dispose()
    {
        _plans.Dispose();
        _transform.Dispose();
        _decoder.Dispose();
    }
}
