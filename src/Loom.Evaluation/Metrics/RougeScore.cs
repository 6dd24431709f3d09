// One ROUGE score as rouge-score's scoring.Score: precision, recall and their harmonic mean.
namespace Loom.Evaluation.Metrics;

/// <summary>ROUGE precision, recall and F-measure (each 0-1).</summary>
public readonly record struct RougeScore(double Precision, double Recall, double FMeasure)
{
    /// <summary>rouge-score's scoring.fmeasure: 2PR/(P+R), 0 when both are 0.</summary>
    public static RougeScore Of(double precision, double recall) =>
        new(precision, recall, precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0);
}
