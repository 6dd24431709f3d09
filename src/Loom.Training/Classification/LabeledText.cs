// One labelled example as read from the user's file, before tokenisation: the text (and optional
// second text of a pair), the label as written, and where it came from (file and line), so every
// later error — an unknown label, a class missing from a fold — can name the line.
namespace Loom.Training.Classification;

/// <summary>A text (or text pair) with its label and source position.</summary>
/// <param name="Text">The first (or only) text.</param>
/// <param name="Pair">The second text of a pair (BERT's sentence B), or null.</param>
/// <param name="Labels">Single-label: one class name; multi-label: the names of the true labels; regression: empty.</param>
/// <param name="Values">Regression targets (num_labels values); null otherwise.</param>
/// <param name="Source">The file the example came from.</param>
/// <param name="Line">Its line in that file (1-based; where the record starts for multi-line CSV).</param>
public sealed record LabeledText(string Text, string? Pair, string[] Labels, float[]? Values, string Source, long Line)
{
    /// <summary>"file:line", as errors name it.</summary>
    public string Where => $"{Source}:{Line}";

    /// <summary>The example's group (data.group_field: a source document, speaker, patient) when the data names one; splits keep a group on one side.</summary>
    public string? Group { get; init; }
}
