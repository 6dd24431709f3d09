// The capability a model offers a pipeline runner (GPipe, Huang et al. 2019; 1F1B, Narayanan et al.
// 2021): it was built for one PipelineStage (ModelOptions.Stage) and exchanges hidden states with its
// neighbours. Protocol per micro-batch, on the activation slot the runner chose:
//   forward:  a non-first stage receives its input into StageInput(B, T); then ForwardHidden (or, on
//             the last stage, Forward with targets) runs the stage; a non-last stage sends the output.
//   backward: the last stage runs Backward(lossScale); the others BackwardHidden(gradient of the
//             output); a non-first stage then sends StageInputGradient to the previous stage.
// Activation slots keep several micro-batches' activations alive at once (GPipe keeps all M, 1F1B
// at most the number of stages after it), each slot an activation plan of its own.
namespace Loom.Models.Parallel;

/// <summary>A model built for one pipeline stage.</summary>
public interface IPipelineStageModel
{
    /// <summary>The layers this model holds.</summary>
    PipelineStage Stage { get; }

    /// <summary>Width of the hidden states passed between stages (n_embd).</summary>
    int HiddenSize { get; }

    /// <summary>
    /// Which micro-batch's activations the next Plan/forward/backward uses (0 by default); each slot
    /// is planned on first use and kept, so a runner with k micro-batches in flight uses slots 0..k−1.
    /// Setting it switches to the slot's plan of the current (B, T) at once, so a backward that
    /// follows runs on that micro-batch's activations.
    /// </summary>
    int ActivationSlot { get; set; }

    /// <summary>
    /// Plans (B, T) on the current slot and returns the (B·T, hidden) buffer a non-first stage reads
    /// its input from: receive the previous stage's output straight into it before the forward.
    /// </summary>
    Span<float> StageInput(int batch, int time);

    /// <summary>After a forward on the current slot: a non-last stage's output, (B·T, hidden), to send to the next stage.</summary>
    ReadOnlySpan<float> StageOutput { get; }

    /// <summary>After a backward on the current slot: the gradient at the stage's input, (B·T, hidden), to send back.</summary>
    ReadOnlySpan<float> StageInputGradient { get; }

    /// <summary>
    /// Names of parameters this stage holds that another stage holds too (a tied LM head's word
    /// embeddings on the first and last stage); the runner sums their gradients across those stages.
    /// </summary>
    IReadOnlyList<string> SharedAcrossStages { get; }
}
