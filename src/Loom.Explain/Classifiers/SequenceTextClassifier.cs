// A `loom classify` / `loom finetune` model (Hugging Face *ForSequenceClassification directory)
// behind ITextClassifier: texts encoded as classify encodes them (head truncation), batched with
// dynamic padding through ClassifierEvaluation.Predict, scores turned into probabilities (softmax for
// single-label, sigmoid per label for multi-label). Regression models have no class probabilities.
using Loom.Models;
using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Explain.Classifiers;

/// <summary>A sequence classifier and its tokenizer as a black-box text classifier.</summary>
public sealed class SequenceTextClassifier : ITextClassifier, IDisposable
{
    private readonly bool _ownsModel;
    private readonly FineTuneOptions _options;

    /// <summary>The model.</summary>
    public ISequenceClassificationModel Model { get; }

    /// <summary>The tokenizer as the model reads it.</summary>
    public SequenceEncoder Encoder { get; }

    public IReadOnlyList<string> Labels { get; }

    public SequenceTextClassifier(ISequenceClassificationModel model, SequenceEncoder encoder, int batchSize = 16, int maxLength = 0, bool ownsModel = false)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        if (model.ProblemType == ProblemType.Regression)
            throw new NotSupportedException("The model is a regression model (problem_type regression): it gives scores, not class probabilities, so there is no class to explain.");
        int limit = maxLength > 0 ? maxLength : Math.Min(model.ContextLength, 512);
        _options = new FineTuneOptions { BatchSize = batchSize, MaxLength = limit, LengthBucketing = true };
        Labels = SequenceClassifiers.LabelsOf(model);
        _ownsModel = ownsModel;
    }

    /// <summary>
    /// Opens a classifier directory (config.json with id2label, model.safetensors, tokenizer files).
    /// <paramref name="withGradients"/> builds it with a gradient block, as integrated gradients needs.
    /// </summary>
    public static SequenceTextClassifier Open(string directory, bool withGradients = false, int batchSize = 16, int maxLength = 0)
    {
        var model = SequenceClassifiers.Load(directory, new SequenceClassifierOptions(), withGradients ? ModelOptions.Default : ModelOptions.Inference);
        try { return new SequenceTextClassifier(model, SequenceEncoder.Load(directory), batchSize, maxLength, ownsModel: true); }
        catch { model.Dispose(); throw; }
    }

    public Task<double[][]> PredictAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var records = texts.Select((t, i) => new LabeledText(t, null, [], null, "explain", i + 1)).ToList();
        var data = ClassificationDataset.Encode(records, Encoder, null, _options.MaxLength, TruncationPolicy.Head);
        var scores = ClassifierEvaluation.Predict(Model, data, _options, cancellationToken);
        int k = Model.NumLabels;
        var result = new double[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            var z = scores.AsSpan(i * k, k);
            var p = new double[k];
            if (Model.ProblemType == ProblemType.MultiLabel)
                for (int j = 0; j < k; j++) p[j] = 1 / (1 + Math.Exp(-z[j]));
            else
            {
                double max = double.NegativeInfinity, sum = 0;
                foreach (var v in z) max = Math.Max(max, v);
                for (int j = 0; j < k; j++) sum += p[j] = Math.Exp(z[j] - max);
                for (int j = 0; j < k; j++) p[j] /= sum;
            }
            result[i] = p;
        }
        return Task.FromResult(result);
    }

    public void Dispose()
    {
        if (_ownsModel) Model.Dispose();
    }
}
