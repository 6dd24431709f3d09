// The locally weighted linear model of LIME (Ribeiro et al. 2016, §3.3-3.4), as lime_base.LimeBase
// computes it (github.com/marcotcr/lime lime/lime_base.py, explain_instance_with_data):
//   weights  = kernel(distances)
//   features = feature_selection(data, labels[:, label], weights, num_features)
//   model    = Ridge(alpha=1).fit(data[:, features], labels[:, label], sample_weight=weights)
//   return intercept, [(feature, coef)] sorted by |coef| descending, weighted R², local prediction at row 0.
// Inputs are given here (perturbation masks, classifier outputs, distances), so this step is checked
// against a scikit-learn reimplementation on fixed masks (tests/Loom.Explain.Tests/Fixtures/make_lime_fixture.py).
namespace Loom.Explain.Lime;

/// <summary>One class's local explanation.</summary>
public sealed record LocalFit(double Intercept, IReadOnlyList<(int Feature, double Weight)> Weights, double Score, double LocalPrediction);

/// <summary>LIME's feature selection and weighted ridge fit on a perturbation neighbourhood.</summary>
public static class LocalLinearModel
{
    /// <summary>lime_text's kernel: sqrt(exp(−d²/width²)) on distances already scaled by 100.</summary>
    public static double Kernel(double distance, double width) => Math.Sqrt(Math.Exp(-(distance * distance) / (width * width)));

    /// <summary>
    /// Cosine distance × 100 of each binary row to row 0 (sklearn pairwise_distances(metric='cosine')·100,
    /// as lime_text's distance_fn). A row with no word left has distance 100 (sklearn: cosine of a zero vector is 0).
    /// </summary>
    public static double[] CosineDistances(double[] data, int d)
    {
        int n = data.Length / d;
        var dist = new double[n];
        double n0 = 0;
        for (int j = 0; j < d; j++) n0 += data[j] * data[j];
        for (int i = 0; i < n; i++)
        {
            double dot = 0, ni = 0;
            for (int j = 0; j < d; j++) { dot += data[i * d + j] * data[j]; ni += data[i * d + j] * data[i * d + j]; }
            double sim = n0 > 0 && ni > 0 ? dot / (Math.Sqrt(n0) * Math.Sqrt(ni)) : 0;
            // sklearn clips cosine distances to [0, 2]
            dist[i] = Math.Clamp(1 - sim, 0, 2) * 100;
        }
        return dist;
    }

    /// <summary>explain_instance_with_data for one label column.</summary>
    public static LocalFit Explain(double[] data, int d, ReadOnlySpan<double> labels, ReadOnlySpan<double> weights, int features, LimeFeatureSelection selection, double alpha = 1.0)
    {
        var used = Select(data, d, labels, weights, features, selection);
        var model = WeightedRidge.Fit(data, d, used, labels, weights, alpha);
        double score = model.Score(data, d, used, labels, weights);
        var x0 = new double[used.Length];
        for (int j = 0; j < used.Length; j++) x0[j] = data[used[j]];
        // Python's sorted is stable: equal |coef| keep the selection order.
        var pairs = used.Select((f, j) => (Feature: f, Weight: model.Coefficients[j])).OrderByDescending(p => Math.Abs(p.Weight)).ToList();
        return new LocalFit(model.Intercept, pairs, score, model.Predict(x0));
    }

    /// <summary>lime_base.feature_selection.</summary>
    public static int[] Select(double[] data, int d, ReadOnlySpan<double> labels, ReadOnlySpan<double> weights, int features, LimeFeatureSelection selection)
    {
        if (selection == LimeFeatureSelection.Auto) selection = features <= 6 ? LimeFeatureSelection.ForwardSelection : LimeFeatureSelection.HighestWeights;
        switch (selection)
        {
            case LimeFeatureSelection.None:
                return Enumerable.Range(0, d).ToArray();
            case LimeFeatureSelection.ForwardSelection:
            {
                var used = new List<int>();
                for (int step = 0; step < Math.Min(features, d); step++)
                {
                    double max = -100000000;
                    int best = 0;
                    for (int f = 0; f < d; f++)
                    {
                        if (used.Contains(f)) continue;
                        int[] cols = [.. used, f];
                        var m = WeightedRidge.Fit(data, d, cols, labels, weights, 0);
                        double s = m.Score(data, d, cols, labels, weights);
                        if (s > max) { best = f; max = s; }
                    }
                    used.Add(best);
                }
                return used.ToArray();
            }
            default:
            {
                var all = Enumerable.Range(0, d).ToArray();
                var m = WeightedRidge.Fit(data, d, all, labels, weights, 0.01);
                // weighted_data = coef * data[0]; sorted by |.| descending (stable), first num_features.
                return all.Select(f => (f, v: m.Coefficients[f] * data[f])).OrderByDescending(p => Math.Abs(p.v)).Take(features).Select(p => p.f).ToArray();
            }
        }
    }
}
