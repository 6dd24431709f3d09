// Figures an objective computes besides its loss, logged next to it in metrics.jsonl: DPO's
// rewards/chosen, rewards/rejected, rewards/margins and rewards/accuracies (TRL's names), the
// distillation run's plain cross-entropy. The loop resets them before a step (or an evaluation) and
// reads their means after it. Asked for with `model as IStepStatistics`.
namespace Loom.Training.Loop;

/// <summary>Per-step statistics of a training objective.</summary>
public interface IStepStatistics
{
    /// <summary>Forgets what was gathered so far.</summary>
    void ResetStatistics();

    /// <summary>Means over the forwards since the last reset, by name (empty when none ran).</summary>
    IReadOnlyList<KeyValuePair<string, double>> Statistics();
}
