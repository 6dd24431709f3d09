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

    /// <summary>Logits of the last forward, (N, V) (their gradient after a backward).</summary>
    public Span<float> Logits => _plans.Current is { } a ? a[a.Logits] : throw new InvalidOperationException("Run the head's Forward first.");

    /// <summary>logits (N, V) from hidden (N, C).</summary>
    public Span<float> Forward(ReadOnlySpan<float> hidden, int rows)
    {
        var a = _plans.Use(rows, 0);
        _transform.Forward(hidden, a[a.Tr], rows);
        GeluExact.Forward(a[a.Tr], a[a.TrAct], _pool);
        LayerNorm.Forward(a[a.TrAct], _p.Value(_lnW), _p.Value(_lnB), a[a.TrLn], a[a.Mean], a[a.Rstd], _c, _eps, _pool);
        _decoder.Forward(a[a.TrLn], a[a.Logits], rows);
        return a[a.Logits];
    }

    /// <summary>Backward from the logits' gradient (in <see cref="Logits"/>): writes dhidden (N, C), adds the head's gradients.</summary>
    public void Backward(ReadOnlySpan<float> hidden, Span<float> hiddenGradient)
    {
        var a = _plans.Current ?? throw new InvalidOperationException("Run the head's Forward first.");
        int rows = a[a.Mean].Length;
        var d = a[a.D];
        _decoder.Backward(a[a.Logits], a[a.TrLn], d, rows);
        LayerNorm.Backward(d, a[a.TrAct], _p.Value(_lnW), a[a.Mean], a[a.Rstd], d, _p.GradientOrDiscard(_lnW), _p.GradientOrDiscard(_lnB), _c, false, _pool);
        GeluExact.Backward(a[a.Tr], d, d, _pool);
        _transform.Backward(d, hidden, hiddenGradient, rows);
    }

    public void Dispose()
    {
        _plans.Dispose();
        _transform.Dispose();
        _decoder.Dispose();
    }
}
