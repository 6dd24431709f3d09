// Where the text, pair and label live in a labelled file, and what kind of label it is. Field names
// are configurable because datasets name them differently (sentence/label, review/sentiment, ...).
using Loom.Core.Validation;
using Loom.Models.Classification;

namespace Loom.Training.Classification;

/// <summary>How to read labelled examples from JSONL or CSV.</summary>
public sealed record ClassificationDataOptions
{
    /// <summary>Field (JSONL key or CSV column) holding the text.</summary>
    public string TextField { get; init; } = "text";
    /// <summary>Field holding the second text of a pair; null for single texts. A record without it reads as a single text.</summary>
    public string? PairField { get; init; }
    /// <summary>Field holding each example's group (optional): cross-validation folds and the hold-out keep a group on one side.</summary>
    public string? GroupField { get; init; }
    /// <summary>Field holding the label.</summary>
    public string LabelField { get; init; } = "label";
    /// <summary>What the label is: a class (string or int), a real value (regression), or a list of classes (multi-label).</summary>
    public ProblemType ProblemType { get; init; } = ProblemType.SingleLabel;
    /// <summary>
    /// Labels whose names a CSV multi-label cell separates (e.g. "sports|politics"); JSONL uses a list.
    /// </summary>
    public char MultiLabelSeparator { get; init; } = '|';

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field as the config writes it.</summary>
    public void Validate(string prefix = "")
    {
        if (string.IsNullOrWhiteSpace(TextField)) throw Setting.Error(prefix + "text_field", TextField, "the name of the field holding the text");
        if (string.IsNullOrWhiteSpace(LabelField)) throw Setting.Error(prefix + "label_field", LabelField, "the name of the field holding the label");
        if (PairField is not null && string.IsNullOrWhiteSpace(PairField)) throw Setting.Error(prefix + "pair_field", PairField, "a field name, or absent for single texts");
        if (PairField == TextField || LabelField == TextField || LabelField == PairField)
            throw Setting.Error(prefix + "label_field", LabelField, $"a field other than the text ({TextField}) and pair ({PairField ?? "none"}) fields");
    }
}
