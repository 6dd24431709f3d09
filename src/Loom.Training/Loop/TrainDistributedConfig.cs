// The `distributed:` section of a `loom train` configuration. It is read only when the run is started
// with --distributed under mpirun/srun (one process per rank); without it a run trains in one process
// and the section is ignored, so one file serves both.
using Loom.Core.Validation;

namespace Loom.Training.Loop;

/// <summary>How data-parallel ranks hold the model states (docs/DISTRIBUTED.md).</summary>
public sealed record TrainDistributedConfig
{
    /// <summary>
    /// ddp (replicated, gradients all-reduced during the backward), zero1 (AdamW moments sharded), zero2
    /// (+ gradients reduce-scattered), zero3 (+ parameters sharded and gathered block by block).
    /// </summary>
    public string Strategy { get; init; } = "ddp";

    /// <summary>
    /// Keep the optimizer state in host memory (ZeRO-Offload). Loom trains on the CPU, where every buffer is
    /// host memory already: accepted and recorded, it changes nothing until a device backend exists.
    /// </summary>
    public bool CpuOffload { get; init; }

    /// <summary>Throws naming the first bad setting under <paramref name="prefix"/>.</summary>
    public void Validate(string prefix = "distributed.") => Setting.OneOf(prefix + "strategy", Strategy, "ddp", "zero1", "zero2", "zero3");
}
