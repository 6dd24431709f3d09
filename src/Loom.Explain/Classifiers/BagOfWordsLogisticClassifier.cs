// A binary logistic model over word presence: p(positive) = σ(b + Σ_{distinct words w} coef[w]),
// words split as LIME splits them. Its truth is known (each word's coefficient), so it is the model
// LIME is verified on: removing word w moves the logit by exactly coef[w].
using Loom.Explain.Lime;

namespace Loom.Explain.Classifiers;

/// <summary>A bag-of-words logistic classifier with given coefficients.</summary>
public sealed class BagOfWordsLogisticClassifier : ITextClassifier
{
    private readonly IReadOnlyDictionary<string, double> _coefficients;
    private readonly double _intercept;

    /// <param name="coefficients">Logit weight of each word (absent words weigh 0).</param>
    /// <param name="intercept">Logit with no word.</param>
    /// <param name="labels">Negative then positive class name.</param>
    public BagOfWordsLogisticClassifier(IReadOnlyDictionary<string, double> coefficients, double intercept, IReadOnlyList<string>? labels = null)
    {
        _coefficients = coefficients ?? throw new ArgumentNullException(nameof(coefficients));
        _intercept = intercept;
        Labels = labels ?? ["negative", "positive"];
        if (Labels.Count != 2) throw new ArgumentException($"A logistic model has 2 labels; got {Labels.Count}.");
    }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>The logit of one text.</summary>
    public double Logit(string text)
    {
        double z = _intercept;
        foreach (var w in new IndexedText(text).Vocabulary) z += _coefficients.GetValueOrDefault(w);
        return z;
    }

    public Task<double[][]> PredictAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var result = new double[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            double p = 1 / (1 + Math.Exp(-Logit(texts[i])));
            result[i] = [1 - p, p];
        }
        return Task.FromResult(result);
    }
}
