// A pass-through projection that also hands its input to the calibration recorder while its path is
// being recorded: the forward hook of the reference implementations (Wanda's and SparseGPT's
// register_forward_hook on nn.Linear), as a wrapper in the projection seam like LoRA's.
using Loom.Models.Projections;

namespace Loom.Compression.Calibration;

/// <summary>Wraps a projection and records its inputs for <see cref="CalibrationRecorder"/>.</summary>
public sealed class RecordingProjection : IProjection
{
    private readonly IProjection _inner;
    private readonly CalibrationRecorder _recorder;

    internal RecordingProjection(IProjection inner, CalibrationRecorder recorder)
    {
        _inner = inner;
        _recorder = recorder;
    }

    /// <inheritdoc/>
    public ProjectionSpec Spec => _inner.Spec;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool accumulate = false)
    {
        _recorder.Observe(Spec, x, rows);
        _inner.Forward(x, y, rows, accumulate);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int rows, bool accumulateInput = false) =>
        _inner.Backward(dy, x, dx, rows, accumulateInput);

    public void Dispose() => _inner.Dispose();
}
