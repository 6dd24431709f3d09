// One row of a supervised batch: inputs and their aligned targets (target t is what position t
// predicts; −100 where nothing is learnt: prompts, padding).
namespace Loom.Training.Loop;

/// <summary>Inputs and targets of equal length.</summary>
public sealed record LabeledSequence(int[] Inputs, int[] Targets)
{
    /// <summary>Targets other than −100.</summary>
    public int LabeledCount => Targets.Count(t => t != Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex);
}
