// Integrated gradients (Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks",
// eq. 1) on token embeddings, with Loom's own backward:
//   IG_t = Σ_c (x − x')[t, c] · ∫₀¹ ∂F(x' + α(x − x'))/∂x[t, c] dα
// where x = word[ids] (the word-embedding rows), the baseline x' = 0 (no word; positions and token
// types stay), and F the target class's logit. The integral is Gauss–Legendre over Steps nodes; the
// nodes run as a batch (IWordEmbeddingGradient gives each sequence its own α). Completeness
// (the paper's Proposition 1): Σ_t IG_t = F(x) − F(x'), the check reported with every explanation.
// The model must have a gradient block (load it with ModelOptions.Default): the backward writes
// parameter gradients on its way to the input; they are not used.
using Loom.Models;
using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Explain.Gradients;

/// <summary>Per-token attributions of one sequence.</summary>
public sealed record TokenAttributions(int[] Ids, double[] Attributions, int Target, double Output, double BaselineOutput, double[] Logits)
{
    /// <summary>Σ attributions − (F(x) − F(x')), relative to |F(x) − F(x')|.</summary>
    public double CompletenessError => Math.Abs(Attributions.Sum() - (Output - BaselineOutput)) / Math.Max(Math.Abs(Output - BaselineOutput), 1e-12);
}

/// <summary>Integrated gradients of a sequence classifier's logit with respect to its word embeddings.</summary>
public sealed class IntegratedGradients
{
    private readonly ISequenceClassificationModel _model;
    private readonly IWordEmbeddingGradient _body;
    private readonly IntegratedGradientsOptions _options;

    public IntegratedGradients(ISequenceClassificationModel model, IntegratedGradientsOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options ?? new IntegratedGradientsOptions();
        _options.Validate();
        _body = model.Body as IWordEmbeddingGradient
            ?? throw new NotSupportedException($"The classifier's body ({model.Body.GetType().Name}) does not expose word-embedding gradients (IWordEmbeddingGradient); use LIME for it.");
        if (model.ProblemType != ProblemType.SingleLabel && model.NumLabels < 1) throw new NotSupportedException("The model has no outputs to attribute.");
    }

    /// <summary>Attributions of one sequence (ids and token types of equal length, no padding).</summary>
    public TokenAttributions Attribute(int[] ids, int[]? types = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int T = ids.Length, N = _model.NumLabels, C = _model.Body.HiddenSize;
        if (T == 0) throw new ArgumentException("The sequence has no tokens.");
        types ??= new int[T];
        if (types.Length != T) throw new ArgumentException($"{types.Length} token types for {T} ids.");
        if (_model is ITrainingMode mode) mode.IsTraining = false;
        try
        {
            var logits = Logits(ids, types, 1f);
            int target = _options.Target ?? ArgMax(logits);
            if (target >= N) throw new ArgumentException($"Target is {target}; the model has {N} outputs (0..{N - 1}).");
            double output = logits[target], baseline = Logits(ids, types, 0f)[target];

            var (nodes, weights) = GaussLegendre.On01(_options.Steps);
            var avg = new double[T * C];
            _body.KeepWordEmbeddingGradient = true;
            for (int start = 0; start < nodes.Length; start += _options.BatchSize)
            {
                int k = Math.Min(_options.BatchSize, nodes.Length - start);
                var alphas = new float[k];
                for (int i = 0; i < k; i++) alphas[i] = (float)nodes[start + i];
                _body.SetWordEmbeddingScales(alphas);
                Forward(ids, types, k);
                var dscores = new float[k * N];
                for (int i = 0; i < k; i++) dscores[i * N + target] = 1f;   // ∂F/∂scores: the target logit
                _model.BackwardScores(dscores);
                var g = _body.WordEmbeddingGradient;
                for (int i = 0; i < k; i++)
                {
                    double w = weights[start + i];
                    var row = g.Slice(i * T * C, T * C);
                    for (int j = 0; j < T * C; j++) avg[j] += w * row[j];
                }
            }
            var x = new float[T * C];
            _body.WordEmbeddings(ids, x);
            var attributions = new double[T];
            for (int t = 0; t < T; t++)
            {
                double s = 0;
                for (int c = 0; c < C; c++) s += x[t * C + c] * avg[t * C + c];   // (x − 0)·∫∂F/∂x
                attributions[t] = s;
            }
            return new TokenAttributions(ids, attributions, target, output, baseline, logits);
        }
        finally
        {
            _body.KeepWordEmbeddingGradient = false;
            _body.SetWordEmbeddingScales([]);
        }
    }

    /// <summary>Encodes <paramref name="text"/> as the classifier reads it and explains the target class.</summary>
    public TextExplanation Explain(string text, SequenceEncoder encoder, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var (ids, types, truncated) = encoder.Encode(text, null, Math.Min(_options.MaxLength, _model.ContextLength), TruncationPolicy.Head);
        var a = Attribute(ids, types);
        var p = Softmax(a.Logits);
        var segments = ids.Select(encoder.TokenText).ToList();
        var top = Enumerable.Range(0, ids.Length).OrderByDescending(t => Math.Abs(a.Attributions[t])).Take(_options.Features)
            .Select(t => new WordWeight(segments[t], a.Attributions[t])).ToList();
        return new TextExplanation
        {
            Method = "integrated_gradients",
            Text = text,
            Segments = segments,
            Classes =
            [
                new ClassExplanation
                {
                    Label = a.Target < labels.Count ? labels[a.Target] : $"LABEL_{a.Target}",
                    Probability = _model.ProblemType == ProblemType.SingleLabel ? p[a.Target] : 1 / (1 + Math.Exp(-a.Logits[a.Target])),
                    Top = top,
                    SegmentWeights = a.Attributions,
                    Score = a.Output - a.BaselineOutput,
                    LocalPrediction = a.Attributions.Sum(),
                },
            ],
            Details = new Dictionary<string, double>
            {
                ["steps"] = _options.Steps, ["tokens"] = ids.Length, ["truncated"] = truncated ? 1 : 0,
                ["logit"] = a.Output, ["baseline_logit"] = a.BaselineOutput, ["completeness_error"] = a.CompletenessError,
            },
        };
    }

    private double[] Logits(int[] ids, int[] types, float alpha)
    {
        _body.SetWordEmbeddingScales([alpha]);
        Forward(ids, types, 1);
        return _model.Scores.ToArray().Select(v => (double)v).ToArray();
    }

    // k copies of the sequence, no padding (every position is a real token).
    private void Forward(int[] ids, int[] types, int k)
    {
        int T = ids.Length;
        var bid = new int[k * T];
        var btypes = new int[k * T];
        var mask = new int[k * T];
        for (int i = 0; i < k; i++) { ids.CopyTo(bid, i * T); types.CopyTo(btypes, i * T); }
        Array.Fill(mask, 1);
        _model.Forward(new TokenBatch(bid, k, T) { TokenTypes = btypes, AttentionMask = mask }, default);
    }

    private static int ArgMax(double[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static double[] Softmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }
}
