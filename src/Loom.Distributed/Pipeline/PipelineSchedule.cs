// The order in which a pipeline stage runs its micro-batches' forwards and backwards.
namespace Loom.Distributed.Pipeline;

/// <summary>Pipeline schedule.</summary>
public enum PipelineSchedule
{
    /// <summary>
    /// GPipe (Huang et al. 2019, §2.2): every micro-batch's forward, then every backward, gradients
    /// accumulated, one optimizer step. Keeps all M micro-batches' activations alive.
    /// </summary>
    GPipe,

    /// <summary>
    /// 1F1B (PipeDream-Flush, Narayanan et al. 2021, §2; Megatron-LM's non-interleaved schedule):
    /// S − s − 1 warm-up forwards on stage s, then one forward one backward, then the remaining
    /// backwards. Same bubble and same gradients as GPipe, at most S − s micro-batches in flight.
    /// </summary>
    OneForwardOneBackward,
}
