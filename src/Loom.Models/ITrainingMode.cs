// PyTorch's model.train() / model.eval(): a capability of models with dropout. Off by default; the
// trainer turns it on for its steps and off for evaluation, generate never turns it on.
namespace Loom.Models;

/// <summary>Training mode (dropout on) versus evaluation mode (dropout off).</summary>
public interface ITrainingMode
{
    /// <summary>True while training: dropout masks are drawn in Forward. False (the default) at inference and evaluation.</summary>
    bool IsTraining { get; set; }

    /// <summary>Training backward passes so far; each draws new masks. Saved with checkpoints so a resumed run draws the same ones.</summary>
    ulong DropoutStep { get; set; }
}
