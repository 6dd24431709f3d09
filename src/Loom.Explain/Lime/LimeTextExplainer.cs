// LIME for text (Ribeiro et al. 2016, "Why Should I Trust You?", §3), as lime_text.LimeTextExplainer
// does it (github.com/marcotcr/lime lime/lime_text.py, __data_labels_distances):
//   d = distinct words; row 0 keeps every word; each other row draws a count uniformly in [1, d] and
//   removes that many distinct words (without replacement, every occurrence of each);
//   labels = classifier(texts); distances = cosine distance to row 0 × 100;
//   weights = sqrt(exp(−distance²/25²)); then per class LocalLinearModel (feature selection + Ridge(alpha=1)).
// The sampler is System.Random with the options' seed (numpy's stream is not reproduced, so the
// fixture test fixes the masks and checks everything after them).
namespace Loom.Explain.Lime;

/// <summary>Explains a classifier's prediction on one text by removing words.</summary>
public sealed class LimeTextExplainer
{
    private readonly ITextClassifierAdapter _classifier;
    private readonly LimeTextOptions _options;

    public LimeTextExplainer(Classifiers.ITextClassifier classifier, LimeTextOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        _options = options ?? new LimeTextOptions();
        _options.Validate();
        _classifier = new ITextClassifierAdapter(classifier);
    }

    /// <summary>The perturbation masks lime draws: row 0 all ones, each other row with 1..d words removed.</summary>
    public static double[] SampleMasks(int words, int samples, Random rng)
    {
        var data = new double[samples * words];
        Array.Fill(data, 1.0);
        var order = new int[words];
        for (int i = 1; i < samples; i++)
        {
            int remove = rng.Next(1, words + 1);
            for (int j = 0; j < words; j++) order[j] = j;
            // partial Fisher–Yates: the first `remove` entries are a uniform choice without replacement
            for (int j = 0; j < remove; j++)
            {
                int k = rng.Next(j, words);
                (order[j], order[k]) = (order[k], order[j]);
                data[i * words + order[j]] = 0;
            }
        }
        return data;
    }

    /// <summary>Explains <paramref name="text"/>.</summary>
    public async Task<TextExplanation> ExplainAsync(string text, CancellationToken cancellationToken = default)
    {
        var indexed = new IndexedText(text);
        int d = indexed.Vocabulary.Count;
        if (d == 0) throw new ArgumentException($"The text \"{text}\" has no words to remove; LIME explains a text by its words.");
        int n = _options.Samples;
        var data = SampleMasks(d, n, new Random(_options.Seed));
        var texts = new string[n];
        var keep = new bool[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) keep[j] = data[i * d + j] != 0;
            texts[i] = i == 0 ? text : indexed.Without(keep);
        }
        var probs = new double[n][];
        for (int start = 0; start < n; start += _options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(_options.BatchSize, n - start);
            var part = await _classifier.PredictAsync(texts.AsMemory(start, count), cancellationToken).ConfigureAwait(false);
            Array.Copy(part, 0, probs, start, count);
        }
        return Fit(indexed, data, probs, _classifier.Labels, _options);
    }

    /// <summary>Everything after the classifier calls: distances, kernel, one local model per explained class.</summary>
    public static TextExplanation Fit(IndexedText indexed, double[] data, double[][] probabilities, IReadOnlyList<string> labels, LimeTextOptions options)
    {
        int d = indexed.Vocabulary.Count, n = probabilities.Length;
        var distances = LocalLinearModel.CosineDistances(data, d);
        var weights = distances.Select(x => LocalLinearModel.Kernel(x, options.KernelWidth)).ToArray();
        int k = labels.Count;
        IEnumerable<int> classes = Enumerable.Range(0, k);
        if (options.TopLabels > 0) classes = classes.OrderByDescending(c => probabilities[0][c]).Take(options.TopLabels);
        var y = new double[n];
        var segments = SegmentsOf(indexed);
        var result = new List<ClassExplanation>();
        foreach (int c in classes)
        {
            for (int i = 0; i < n; i++) y[i] = probabilities[i][c];
            var fit = LocalLinearModel.Explain(data, d, y, weights, options.Features, options.FeatureSelection, options.Alpha);
            var byFeature = new double[d];
            foreach (var (f, w) in fit.Weights) byFeature[f] = w;
            result.Add(new ClassExplanation
            {
                Label = labels[c],
                Probability = probabilities[0][c],
                Top = fit.Weights.Select(p => new WordWeight(indexed.Vocabulary[p.Feature], p.Weight)).ToList(),
                SegmentWeights = segments.Feature.Select(f => f < 0 ? 0 : byFeature[f]).ToArray(),
                Intercept = fit.Intercept,
                Score = fit.Score,
                LocalPrediction = fit.LocalPrediction,
            });
        }
        return new TextExplanation
        {
            Method = "lime",
            Text = indexed.Text,
            Segments = segments.Text,
            Classes = result,
            Details = new Dictionary<string, double> { ["samples"] = n, ["distinct_words"] = d, ["kernel_width"] = options.KernelWidth, ["features"] = options.Features },
        };
    }

    // The text as words and separators, each with its feature (−1 for a separator).
    private static (List<string> Text, List<int> Feature) SegmentsOf(IndexedText indexed)
    {
        var text = new List<string>();
        var feature = new List<int>();
        int at = 0;
        foreach (var (start, length, f) in indexed.Occurrences)
        {
            if (start > at) { text.Add(indexed.Text[at..start]); feature.Add(-1); }
            text.Add(indexed.Text.Substring(start, length));
            feature.Add(f);
            at = start + length;
        }
        if (at < indexed.Text.Length) { text.Add(indexed.Text[at..]); feature.Add(-1); }
        return (text, feature);
    }

    // Checks each answer's shape once, so a broken classifier is named rather than indexed out of range.
    private sealed class ITextClassifierAdapter(Classifiers.ITextClassifier inner)
    {
        public IReadOnlyList<string> Labels { get; } = inner.Labels;

        public async Task<double[][]> PredictAsync(ReadOnlyMemory<string> texts, CancellationToken ct)
        {
            var list = texts.ToArray();
            var p = await inner.PredictAsync(list, ct).ConfigureAwait(false);
            if (p.Length != list.Length) throw new InvalidOperationException($"The classifier returned {p.Length} answers for {list.Length} texts.");
            foreach (var row in p)
                if (row is null || row.Length != Labels.Count) throw new InvalidOperationException($"The classifier returned a probability vector of {row?.Length ?? 0} values; it has {Labels.Count} labels.");
            return p;
        }
    }
}
