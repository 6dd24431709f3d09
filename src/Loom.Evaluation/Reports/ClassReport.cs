// One row of a classification report: a class's scores under its human-readable name.
namespace Loom.Evaluation.Reports;

/// <summary>Precision, recall, F1, support (true samples) and predicted count of one class.</summary>
public sealed record ClassReport(int Label, string Name, double Precision, double Recall, double F1, long Support, long Predicted);
