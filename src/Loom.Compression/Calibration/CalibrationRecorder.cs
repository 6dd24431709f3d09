// Collects per-projection input statistics while a model runs on calibration text. The model is built
// with WrapOptions, which puts a RecordingProjection around every projection; only the paths in
// Active record, so pruning can calibrate one transformer layer at a time (the sequential scheme of
// SparseGPT and Wanda: layer l is calibrated on inputs produced by the already-pruned layers < l).
using Loom.Core.Threading;
using Loom.Models;
using Loom.Models.Projections;

namespace Loom.Compression.Calibration;

/// <summary>Records calibration statistics of the projections named in <see cref="Active"/>.</summary>
public sealed class CalibrationRecorder
{
    private readonly Dictionary<string, ProjectionStatistics> _stats = new(StringComparer.Ordinal);
    private readonly List<ProjectionSpec> _specs = [];

    /// <summary>A recorder that collects XXᵀ too when <paramref name="gram"/> (SparseGPT).</summary>
    public CalibrationRecorder(bool gram) => CollectsGram = gram;

    /// <summary>True when the Gram matrix XXᵀ is collected.</summary>
    public bool CollectsGram { get; }

    /// <summary>The paths that record now (empty: none).</summary>
    public HashSet<string> Active { get; } = new(StringComparer.Ordinal);

    /// <summary>Every projection the model was built with, in build order.</summary>
    public IReadOnlyList<ProjectionSpec> Projections => _specs;

    /// <summary>Pool for the Gram GEMM (the model's).</summary>
    public WorkerPool? Pool { get; set; }

    /// <summary><paramref name="options"/> with every projection wrapped for recording (after its own factory); for one model.</summary>
    public ModelOptions WrapOptions(ModelOptions options)
    {
        var inner = options.Projections;
        return options with
        {
            Projections = c =>
            {
                if (_specs.Any(s => s.Path == c.Spec.Path))
                    throw new InvalidOperationException($"This CalibrationRecorder already serves a model with projection {c.Spec.Path}; use one recorder per model.");
                _specs.Add(c.Spec);
                Pool ??= c.Pool;
                return new RecordingProjection(inner?.Invoke(c) ?? c.CreateDense(), this);
            },
        };
    }

    /// <summary>Statistics of <paramref name="path"/> so far.</summary>
    public ProjectionStatistics Statistics(string path) =>
        _stats.TryGetValue(path, out var s) ? s : throw new KeyNotFoundException($"No calibration statistics for {path}: it was not active while the model ran.");

    /// <summary>Drops the statistics of every path (after a layer is pruned).</summary>
    public void Clear() => _stats.Clear();

    internal void Observe(ProjectionSpec spec, ReadOnlySpan<float> x, int rows)
    {
        if (!Active.Contains(spec.Path)) return;
        if (!_stats.TryGetValue(spec.Path, out var s)) _stats[spec.Path] = s = new ProjectionStatistics(spec.InFeatures, CollectsGram);
        s.Add(x, rows, Pool);
    }
}
