// The classic sentiment baseline the IMDB fine-tune is measured against: scikit-learn's
// TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True) + LogisticRegression (L2), written
// out here so the bench needs no Python. Definitions follow scikit-learn 1.2:
//   tokens   lowercase, then the default token_pattern (?u)\b\w\w+\b; bigrams join adjacent tokens
//   tf       1 + ln(count)                       (sublinear_tf)
//   idf      ln((1 + n) / (1 + df)) + 1          (smooth_idf)
//   rows     L2-normalised
//   loss     ½‖w‖² + C Σ log(1 + exp(−yᵢ(w·xᵢ + b)))  (the intercept is not penalised, as lbfgs does)
// minimised with L-BFGS (Nocedal & Wright 2006, algorithm 7.4) and a backtracking Armijo line search.
using System.Text.RegularExpressions;

namespace Loom.Bench.Anchors;

/// <summary>TF-IDF (uni+bigram) features and a binary L2 logistic regression over them.</summary>
internal sealed partial class TfidfLogisticRegression
{
    [GeneratedRegex(@"\b\w\w+\b")]
    private static partial Regex TokenPattern();

    private readonly Dictionary<string, int> _unigrams = new(StringComparer.Ordinal);
    private readonly Dictionary<long, int> _features = new();   // (unigram id, unigram id or −1) → feature
    private float[] _idf = [];
    private double[] _w = [];
    private double _b;

    /// <summary>Features kept (df ≥ min_df).</summary>
    public int FeatureCount => _idf.Length;

    /// <summary>Builds the vocabulary and idf on <paramref name="texts"/>, then fits the regression with inverse regularisation <paramref name="c"/>.</summary>
    public void Fit(IReadOnlyList<string> texts, IReadOnlyList<int> labels, double c, int minDf = 2, int maxIterations = 200)
    {
        // Document frequencies over unigram ids and bigram id pairs, then keep df ≥ min_df.
        var docs = new int[texts.Count][];
        for (int i = 0; i < texts.Count; i++) docs[i] = Words(texts[i], grow: true);
        var df = new Dictionary<long, int>();
        var seen = new HashSet<long>();
        foreach (var d in docs)
        {
            seen.Clear();
            foreach (long key in Keys(d)) if (seen.Add(key)) df[key] = df.GetValueOrDefault(key) + 1;
        }
        // Feature order does not change the model; sort for a reproducible layout.
        var kept = df.Where(kv => kv.Value >= minDf).Select(kv => kv.Key).Order().ToArray();
        _idf = new float[kept.Length];
        for (int f = 0; f < kept.Length; f++)
        {
            _features[kept[f]] = f;
            _idf[f] = (float)(Math.Log((1.0 + texts.Count) / (1.0 + df[kept[f]])) + 1.0);
        }
        var x = docs.Select(Vectorise).ToArray();
        Train(x, labels, c, maxIterations);
    }

    /// <summary>P(label = 1) for a text.</summary>
    public double Probability(string text)
    {
        var (idx, val) = Vectorise(Words(text, grow: false));
        double z = _b;
        for (int k = 0; k < idx.Length; k++) z += _w[idx[k]] * val[k];
        return 1.0 / (1.0 + Math.Exp(-z));
    }

    private int[] Words(string text, bool grow)
    {
        var ids = new List<int>();
        foreach (Match m in TokenPattern().Matches(text.ToLowerInvariant()))
        {
            if (_unigrams.TryGetValue(m.Value, out int id)) ids.Add(id);
            else if (grow) { id = _unigrams.Count; _unigrams[m.Value] = id; ids.Add(id); }
            else ids.Add(-1);   // unseen at fit time: no unigram feature, and it breaks bigrams
        }
        return ids.ToArray();
    }

    private static IEnumerable<long> Keys(int[] words)
    {
        for (int i = 0; i < words.Length; i++)
        {
            if (words[i] < 0) continue;
            yield return ((long)words[i] << 32) | 0xFFFFFFFFL;
            if (i + 1 < words.Length && words[i + 1] >= 0) yield return ((long)words[i] << 32) | (uint)words[i + 1];
        }
    }

    private (int[] Index, float[] Value) Vectorise(int[] words)
    {
        var counts = new Dictionary<int, int>();
        foreach (long key in Keys(words))
            if (_features.TryGetValue(key, out int f)) counts[f] = counts.GetValueOrDefault(f) + 1;
        var idx = counts.Keys.Order().ToArray();
        var val = new float[idx.Length];
        double norm = 0;
        for (int k = 0; k < idx.Length; k++)
        {
            val[k] = (float)((1.0 + Math.Log(counts[idx[k]])) * _idf[idx[k]]);
            norm += (double)val[k] * val[k];
        }
        if (norm > 0) { float inv = (float)(1.0 / Math.Sqrt(norm)); for (int k = 0; k < val.Length; k++) val[k] *= inv; }
        return (idx, val);
    }

    // Objective and gradient over θ = (w, b).
    private static double Objective((int[] Index, float[] Value)[] x, IReadOnlyList<int> y, double c, double[] theta, double[] grad)
    {
        int n = theta.Length - 1;
        double b = theta[n], loss = 0;
        for (int j = 0; j < n; j++) { grad[j] = theta[j]; loss += 0.5 * theta[j] * theta[j]; }
        grad[n] = 0;
        for (int i = 0; i < x.Length; i++)
        {
            var (idx, val) = x[i];
            double z = b;
            for (int k = 0; k < idx.Length; k++) z += theta[idx[k]] * val[k];
            double s = y[i] == 1 ? 1 : -1, m = s * z;
            loss += c * (m > 0 ? Math.Log(1 + Math.Exp(-m)) : -m + Math.Log(1 + Math.Exp(m)));
            double g = -c * s / (1 + Math.Exp(m));          // d/dz of C·log(1 + e^(−s z))
            for (int k = 0; k < idx.Length; k++) grad[idx[k]] += g * val[k];
            grad[n] += g;
        }
        return loss;
    }

    private void Train((int[] Index, float[] Value)[] x, IReadOnlyList<int> y, double c, int maxIterations)
    {
        int dim = _idf.Length + 1, memory = 10;
        var theta = new double[dim];
        var grad = new double[dim];
        var s = new List<double[]>();
        var t = new List<double[]>();
        var rho = new List<double>();
        double f = Objective(x, y, c, theta, grad);
        var dir = new double[dim];
        var alpha = new double[memory];
        for (int iter = 0; iter < maxIterations; iter++)
        {
            // Two-loop recursion: dir = −H·grad.
            Array.Copy(grad, dir, dim);
            for (int k = s.Count - 1; k >= 0; k--) { alpha[k] = rho[k] * Dot(s[k], dir); Axpy(-alpha[k], t[k], dir); }
            double gamma = s.Count > 0 ? Dot(s[^1], t[^1]) / Dot(t[^1], t[^1]) : 1.0 / Math.Sqrt(Dot(grad, grad));
            for (int j = 0; j < dim; j++) dir[j] *= gamma;
            for (int k = 0; k < s.Count; k++) { double beta = rho[k] * Dot(t[k], dir); Axpy(alpha[k] - beta, s[k], dir); }
            for (int j = 0; j < dim; j++) dir[j] = -dir[j];
            double slope = Dot(grad, dir);
            if (slope >= 0) { Array.Copy(grad, dir, dim); for (int j = 0; j < dim; j++) dir[j] = -dir[j]; slope = Dot(grad, dir); s.Clear(); t.Clear(); rho.Clear(); }

            var next = new double[dim];
            var nextGrad = new double[dim];
            double step = 1, fNext;
            while (true)
            {
                for (int j = 0; j < dim; j++) next[j] = theta[j] + step * dir[j];
                fNext = Objective(x, y, c, next, nextGrad);
                if (fNext <= f + 1e-4 * step * slope || step < 1e-10) break;
                step *= 0.5;
            }
            var sk = new double[dim];
            var tk = new double[dim];
            for (int j = 0; j < dim; j++) { sk[j] = next[j] - theta[j]; tk[j] = nextGrad[j] - grad[j]; }
            double sy = Dot(sk, tk);
            if (sy > 1e-12)
            {
                if (s.Count == memory) { s.RemoveAt(0); t.RemoveAt(0); rho.RemoveAt(0); }
                s.Add(sk); t.Add(tk); rho.Add(1 / sy);
            }
            double decrease = f - fNext;
            theta = next; grad = nextGrad; f = fNext;
            // scikit-learn's lbfgs stops on the projected gradient's max norm ≤ tol (1e-4).
            if (grad.Max(Math.Abs) <= 1e-4 || decrease <= 1e-10 * Math.Max(1, Math.Abs(f))) break;
        }
        _w = theta[..^1];
        _b = theta[^1];
    }

    private static double Dot(double[] a, double[] b) { double r = 0; for (int i = 0; i < a.Length; i++) r += a[i] * b[i]; return r; }
    private static void Axpy(double a, double[] x, double[] y) { for (int i = 0; i < x.Length; i++) y[i] += a * x[i]; }
}
