// The targets of one classification batch: class ids for single-label problems (B), or real
// values for regression (B·num_labels) and multi-label problems (B·num_labels of 0/1), as Hugging
// Face's *ForSequenceClassification reads `labels` (long for single-label, float otherwise).
namespace Loom.Models.Classification;

/// <summary>Labels of a batch: class ids or values, never both; <see cref="IsEmpty"/> for none (prediction only).</summary>
public readonly ref struct ClassificationLabels
{
    /// <summary>Class ids (B), for <see cref="ProblemType.SingleLabel"/>; −100 leaves a row out of the loss.</summary>
    public ReadOnlySpan<int> Classes { get; }
    /// <summary>Targets (B·num_labels), for <see cref="ProblemType.Regression"/> and <see cref="ProblemType.MultiLabel"/>.</summary>
    public ReadOnlySpan<float> Values { get; }

    private ClassificationLabels(ReadOnlySpan<int> classes, ReadOnlySpan<float> values)
    {
        Classes = classes;
        Values = values;
    }

    /// <summary>Class ids, one per sequence.</summary>
    public static ClassificationLabels FromClasses(ReadOnlySpan<int> classes) => new(classes, default);
    /// <summary>Real targets, num_labels per sequence.</summary>
    public static ClassificationLabels FromValues(ReadOnlySpan<float> values) => new(default, values);

    /// <summary>No labels: Forward computes scores only.</summary>
    public bool IsEmpty => Classes.IsEmpty && Values.IsEmpty;
}
