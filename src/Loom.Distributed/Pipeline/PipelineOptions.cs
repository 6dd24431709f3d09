// How a pipeline runs: the schedule and into how many micro-batches each global batch is cut.
namespace Loom.Distributed.Pipeline;

/// <summary>Pipeline-parallel settings (YAML <c>distributed: { pipeline_parallel, schedule, micro_batches }</c>).</summary>
public sealed record PipelineOptions
{
    /// <summary>gpipe (default) or 1f1b.</summary>
    public PipelineSchedule Schedule { get; init; } = PipelineSchedule.GPipe;

    /// <summary>Micro-batches per global batch (default 1); must divide the batch size. More shrink the bubble, (S−1)/(M+S−1) of the step.</summary>
    public int MicroBatches { get; init; } = 1;

    /// <summary>Throws naming the field when the micro-batch count cannot cut <paramref name="batch"/>.</summary>
    public void Validate(int batch)
    {
        if (MicroBatches < 1 || MicroBatches > 64)
            throw new ArgumentException($"distributed.micro_batches = {MicroBatches}; it must be in [1, 64].");
        if (batch % MicroBatches != 0)
            throw new ArgumentException($"distributed.micro_batches = {MicroBatches} does not divide batch_size = {batch}; choose a divisor of the batch size.");
    }

    /// <summary>Parses the YAML name of a schedule: gpipe or 1f1b.</summary>
    public static PipelineSchedule ParseSchedule(string name) => name.ToLowerInvariant() switch
    {
        "gpipe" => PipelineSchedule.GPipe,
        "1f1b" => PipelineSchedule.OneForwardOneBackward,
        _ => throw new ArgumentException($"distributed.schedule = \"{name}\"; use gpipe or 1f1b."),
    };
}
