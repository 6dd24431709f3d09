// What an explainer needs from a text classifier: class names and, for a list of texts, one
// probability vector per text. LIME (model-agnostic) sees nothing else, so a `loom classify`
// model, an OpenAI-compatible endpoint and a bag-of-words logistic model all explain the same way.
namespace Loom.Explain.Classifiers;

/// <summary>A black-box text classifier: texts in, class probabilities out.</summary>
public interface ITextClassifier
{
    /// <summary>Class names, in the order of each probability vector.</summary>
    IReadOnlyList<string> Labels { get; }

    /// <summary>One probability vector (length <see cref="Labels"/>.Count) per text, in input order.</summary>
    Task<double[][]> PredictAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);
}
