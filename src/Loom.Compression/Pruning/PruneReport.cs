// What a pruning run did, per projection and in total; written as pruning.json beside the model.
namespace Loom.Compression.Pruning;

/// <summary>One pruned projection.</summary>
public sealed record PrunedProjection(string Path, int Layer, long Weights, long Zeros)
{
    /// <summary>Fraction of zero weights after pruning.</summary>
    public double Sparsity => Weights == 0 ? 0 : (double)Zeros / Weights;
}

/// <summary>The result of pruning a model.</summary>
public sealed record PruneReport
{
    /// <summary>Method name as the CLI spells it.</summary>
    public required string Method { get; init; }

    /// <summary>"50% unstructured", "2:4".</summary>
    public required string Pattern { get; init; }

    /// <summary>Each pruned projection, in model order.</summary>
    public required IReadOnlyList<PrunedProjection> Projections { get; init; }

    /// <summary>Calibration windows used (0 for magnitude).</summary>
    public int CalibrationWindows { get; init; }

    /// <summary>Calibration tokens per projection (windows × n_positions).</summary>
    public long CalibrationTokens { get; init; }

    /// <summary>"sequential": each layer calibrated on the outputs of the already-pruned layers before it.</summary>
    public string Calibration { get; init; } = "none";

    /// <summary>Zeros over weights of the pruned projections.</summary>
    public double Sparsity => Projections.Sum(p => p.Weights) is var w and > 0 ? (double)Projections.Sum(p => p.Zeros) / w : 0;
}
