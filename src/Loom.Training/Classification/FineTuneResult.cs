// What a fine-tuning run produced: the step and epoch it ended at, the best evaluation by
// metric_for_best_model (whose weights are the saved model), and the run's history.
namespace Loom.Training.Classification;

/// <summary>The outcome of <see cref="FineTuning.Train"/>.</summary>
public sealed record FineTuneResult
{
    public required int Steps { get; init; }
    public required int MaxSteps { get; init; }
    /// <summary>The step of the best evaluation (its weights are in the output model).</summary>
    public required int BestStep { get; init; }
    /// <summary>The best value of metric_for_best_model.</summary>
    public required double BestMetric { get; init; }
    public required string Metric { get; init; }
    /// <summary>The evaluation of the saved (best) model on the validation data.</summary>
    public required ClassifierEvaluation Evaluation { get; init; }
    /// <summary>Training-loss points (step, loss, learning rate).</summary>
    public required IReadOnlyList<(int Step, double Loss, double LearningRate)> TrainHistory { get; init; }
    /// <summary>Evaluations (step, epoch, metrics), in order.</summary>
    public required IReadOnlyList<(int Step, double Epoch, IReadOnlyDictionary<string, double> Metrics)> EvalHistory { get; init; }
    /// <summary>Training examples.</summary>
    public int TrainExamples { get; init; }
    public bool StoppedEarly { get; init; }
    public double Seconds { get; init; }
    /// <summary>The Hugging Face directory of the saved model.</summary>
    public required string ModelDirectory { get; init; }
}
