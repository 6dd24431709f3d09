// The data block of a fine-tuning configuration: the training file, the validation file or a
// stratified hold-out fraction, and the fields holding text, pair and label.
namespace Loom.Training.Classification;

/// <summary>Where the labelled examples are.</summary>
public sealed record FineTuneData
{
    /// <summary>JSONL or CSV of training examples.</summary>
    public string? Train { get; init; }
    /// <summary>JSONL or CSV of validation examples; null: a stratified hold-out of <see cref="ValidationFraction"/> of the training file.</summary>
    public string? Validation { get; init; }
    /// <summary>Fraction of the training examples held out (stratified by class) when there is no validation file.</summary>
    public double ValidationFraction { get; init; } = 0.1;
    public string TextField { get; init; } = "text";
    public string? PairField { get; init; }
    public string LabelField { get; init; } = "label";
    /// <summary>Field holding each example's group: folds and the validation hold-out never split a group (Loom.Evaluation GroupedSplits).</summary>
    public string? GroupField { get; init; }
}
