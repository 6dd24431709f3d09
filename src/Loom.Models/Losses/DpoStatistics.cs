// What TRL's DPOTrainer logs per batch (rewards/chosen, rewards/rejected, rewards/margins,
// rewards/accuracies), from the implicit rewards β·(log πθ − log πref) of Rafailov et al. 2023, §5.
namespace Loom.Models.Losses;

/// <summary>The DPO loss of a batch and its logged reward statistics (means over the pairs).</summary>
public readonly record struct DpoStatistics(float Loss, float ChosenReward, float RejectedReward, float Margin, float Accuracy);
