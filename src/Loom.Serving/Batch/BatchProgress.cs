namespace Loom.Serving.Batch;

/// <summary>Where a batch job stands.</summary>
/// <param name="Total">Requests in the input.</param>
/// <param name="Skipped">Already in the output from an earlier run.</param>
/// <param name="Done">Written in this run.</param>
/// <param name="Failed">Of those, answered with an error.</param>
public sealed record BatchProgress(int Total, int Skipped, int Done, int Failed)
{
    /// <summary>True when every request of the input has a line in the output.</summary>
    public bool Complete => Skipped + Done == Total;
}
