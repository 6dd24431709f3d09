// A text classifier as a moderation model (`loom serve --moderation-model DIR`): the classifier's
// class probabilities, summed per OpenAI category (ModerationCategories), are the category scores; a
// category is flagged when its score reaches the threshold, a text when any category is. The model
// is any `loom finetune` classifier (ITextClassifier, Loom.Explain) whose classes map to categories —
// examples/moderation/finetune.yaml trains one on Davidson et al. (2017) plus LDNOOBW. Its measured
// precision and recall are in docs/SAFETY.md.
using Loom.Explain.Classifiers;

namespace Loom.Serving.Guards;

/// <summary>One text's moderation result, in OpenAI's terms.</summary>
/// <param name="Flagged">Any category flagged.</param>
/// <param name="Categories">Each modelled category: flagged or not.</param>
/// <param name="Scores">Each modelled category's score (a probability).</param>
public sealed record ModerationVerdict(bool Flagged, IReadOnlyDictionary<string, bool> Categories, IReadOnlyDictionary<string, double> Scores)
{
    /// <summary>The flagged categories, comma-separated.</summary>
    public string FlaggedList => string.Join(",", Categories.Where(c => c.Value).Select(c => c.Key));

    /// <summary>The highest category score.</summary>
    public double MaxScore => Scores.Count == 0 ? 0 : Scores.Values.Max();
}

/// <summary>Scores texts with a classifier mapped to OpenAI moderation categories.</summary>
public sealed class ContentModerator : IDisposable
{
    private readonly ITextClassifier _classifier;
    private readonly string?[] _categoryOf;
    private readonly string[] _categories;
    private readonly bool _owns;
    // The classifier's model plans its activations for one batch at a time.
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>The model name a response reports.</summary>
    public string ModelName { get; }

    /// <summary>Score at or above which a category is flagged.</summary>
    public double Threshold { get; }

    /// <summary>The categories this model scores, in OpenAI's order.</summary>
    public IReadOnlyList<string> Categories => _categories;

    /// <param name="classifier">The classifier; its labels must map (see <see cref="ModerationCategories.Map"/>).</param>
    /// <param name="modelName">Reported as the response's model.</param>
    /// <param name="threshold">Category score at which it is flagged, in (0, 1].</param>
    /// <param name="ownsClassifier">Dispose the classifier with this.</param>
    public ContentModerator(ITextClassifier classifier, string modelName, double threshold = 0.5, bool ownsClassifier = false)
    {
        _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentException($"--moderation-threshold is {threshold}; it must be in (0, 1].");
        _categoryOf = ModerationCategories.Map(classifier.Labels, modelName);
        _categories = ModerationCategories.OpenAI.Where(c => _categoryOf.Contains(c)).ToArray();
        ModelName = modelName;
        Threshold = threshold;
        _owns = ownsClassifier;
    }

    /// <summary>Opens a `loom finetune` classifier directory as a moderation model named after the directory.</summary>
    public static ContentModerator Open(string directory, double threshold = 0.5)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"--moderation-model {directory}: no such directory. Give a classifier trained with loom finetune (e.g. runs/moderation/classifier/model, see examples/moderation/finetune.yaml).");
        var classifier = SequenceTextClassifier.Open(directory);
        try
        {
            string name = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))).Name;
            return new ContentModerator(classifier, name, threshold, ownsClassifier: true);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>One verdict per text, in order.</summary>
    public async Task<ModerationVerdict[]> ModerateAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) return [];
        double[][] probabilities;
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { probabilities = await _classifier.PredictAsync(texts, cancellationToken).ConfigureAwait(false); }
        finally { _one.Release(); }
        var verdicts = new ModerationVerdict[texts.Count];
        for (int t = 0; t < texts.Count; t++)
        {
            var scores = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var c in _categories) scores[c] = 0;
            for (int k = 0; k < _categoryOf.Length; k++)
                if (_categoryOf[k] is { } c) scores[c] += probabilities[t][k];
            var flags = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var c in _categories) flags[c] = scores[c] >= Threshold;
            verdicts[t] = new ModerationVerdict(flags.Values.Any(f => f), flags, scores);
        }
        return verdicts;
    }

    public void Dispose()
    {
        if (_owns && _classifier is IDisposable d) d.Dispose();
        _one.Dispose();
    }
}
