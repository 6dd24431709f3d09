// One report of a fine-tuning run's progress (after each optimizer step).
namespace Loom.Training.Classification;

/// <summary>Where a fine-tuning run is.</summary>
public sealed record FineTuneProgress(int Step, int MaxSteps, double Epoch, float Loss, float LearningRate)
{
    /// <summary>The validation metrics when this step ended with an evaluation, else null.</summary>
    public IReadOnlyDictionary<string, double>? Evaluation { get; init; }
}
