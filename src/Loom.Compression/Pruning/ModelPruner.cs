// Prunes a whole causal language model, one transformer layer at a time (the sequential scheme of the
// SparseGPT and Wanda reference implementations): layer l's projections are calibrated by running the
// model on the calibration windows *after* layers < l were pruned, so each layer is fitted to the
// inputs it will see in the pruned model; all projections of one layer are calibrated in the same pass
// (as the references do) and then pruned. The model runs whole each time (the projection seam has no
// early exit), so calibration costs L forward passes over the windows rather than one.
// Which projection belongs to which layer is read from its module path ("h.3.mlp.c_fc",
// "model.layers.3.self_attn.q_proj"): the first numeric component. Projections without one
// (embeddings, the LM head) are left dense, as the references leave them.
using System.Text.Json;
using System.Text.RegularExpressions;
using Loom.Compression.Calibration;
using Loom.Compression.IO;
using Loom.Core.IO;
using Loom.Models;
using Loom.Models.Projections;
using Loom.Tokenizers;

namespace Loom.Compression.Pruning;

/// <summary>Pruning of whole models.</summary>
public static partial class ModelPruner
{
    [GeneratedRegex(@"(?:^|\.)(\d+)(?:\.|$)")]
    private static partial Regex LayerNumber();

    /// <summary>The transformer layer a projection path belongs to, or −1.</summary>
    public static int LayerOf(string path) => LayerNumber().Match(path) is { Success: true } m ? int.Parse(m.Groups[1].Value) : -1;

    /// <summary>
    /// Opens <paramref name="modelDirectory"/>, calibrates on <paramref name="calibrationFile"/> (tokenized
    /// with the model's tokenizer; not needed for magnitude), prunes, and writes a normal model directory
    /// (zeros in the weights) with pruning.json to <paramref name="outputDirectory"/>.
    /// </summary>
    public static PruneReport PruneDirectory(string modelDirectory, string outputDirectory, PruneOptions options, string? calibrationFile,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        ModelDirectoryWriter.CheckOutput(modelDirectory, outputDirectory);
        bool calibrate = options.Method != PruningMethod.Magnitude;
        IReadOnlyList<int[]> windows = [];
        var recorder = new CalibrationRecorder(gram: options.Method == PruningMethod.SparseGpt);
        using var model = CausalLanguageModels.Load(modelDirectory, recorder.WrapOptions(ModelOptions.Inference));
        if (calibrate)
        {
            if (calibrationFile is null)
                throw new ArgumentException($"--method {Name(options.Method)} needs --calibration FILE (text whose activations weigh the weights); only magnitude pruning runs without one.");
            windows = CalibrationSamples.FromFile(calibrationFile, TokenizerLoader.Load(modelDirectory), options.Samples, model.ContextLength);
            progress?.Report($"calibration: {windows.Count} windows of {model.ContextLength} tokens from {calibrationFile}");
        }
        var report = Prune(model, recorder, windows, options, progress, cancellationToken);
        ModelDirectoryWriter.Write(modelDirectory, outputDirectory, staging =>
        {
            model.Save(staging);
            DurableFile.WriteAllText(Path.Combine(staging, "pruning.json"), JsonSerializer.Serialize(new
            {
                method = report.Method,
                pattern = report.Pattern,
                calibration = report.Calibration,
                calibration_windows = report.CalibrationWindows,
                calibration_tokens = report.CalibrationTokens,
                sparsity = report.Sparsity,
                projections = report.Projections.Select(p => new { path = p.Path, layer = p.Layer, weights = p.Weights, zeros = p.Zeros, sparsity = p.Sparsity }),
            }, new JsonSerializerOptions { WriteIndented = true }));
        });
        return report;
    }

    /// <summary>
    /// Prunes <paramref name="model"/> in place. For Wanda and SparseGPT the model must have been built
    /// with <paramref name="recorder"/>'s <see cref="CalibrationRecorder.WrapOptions"/>, and
    /// <paramref name="windows"/> hold n_positions + 1 tokens each.
    /// </summary>
    public static PruneReport Prune(ICausalLanguageModel model, CalibrationRecorder recorder, IReadOnlyList<int[]> windows, PruneOptions options,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        bool calibrate = options.Method != PruningMethod.Magnitude;
        if (calibrate && windows.Count == 0) throw new ArgumentException($"{Name(options.Method)} needs calibration windows.");
        if (calibrate && recorder.Projections.Count == 0)
            throw new InvalidOperationException("The model was not built with CalibrationRecorder.WrapOptions, so its inputs cannot be recorded.");
        var specs = recorder.Projections.Count > 0 ? recorder.Projections : throw new InvalidOperationException("Build the model with CalibrationRecorder.WrapOptions so its projections are known.");
        var include = options.Include ?? (s => LayerOf(s.Path) >= 0);
        var seen = new HashSet<int>();
        var chosen = specs.Where(s => include(s) && seen.Add(s.WeightIndex)).ToList();
        if (chosen.Count == 0) throw new ArgumentException("No projection of this model is selected for pruning.");
        foreach (var s in chosen) PruningMasks.CheckGroups(options.Pattern, s.InFeatures, s.Path);
        var p = model.Parameters;
        var results = new List<PrunedProjection>();
        int T = model.ContextLength;
        foreach (var layer in chosen.GroupBy(s => LayerOf(s.Path)).OrderBy(g => g.Key))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (calibrate)
            {
                recorder.Clear();
                recorder.Active.Clear();
                foreach (var s in layer) recorder.Active.Add(s.Path);
                RunCalibration(model, windows, T, options.BatchSize, cancellationToken);
                recorder.Active.Clear();
            }
            foreach (var s in layer)
            {
                int rows = s.OutFeatures, cols = s.InFeatures;
                var w = WeightMatrix.ToOutIn(p.Value(s.WeightIndex), s);
                switch (options.Method)
                {
                    case PruningMethod.Magnitude: MagnitudePruner.Prune(w, rows, cols, options.Pattern); break;
                    case PruningMethod.Wanda: WandaPruner.Prune(w, rows, cols, recorder.Statistics(s.Path).SquaredNorms, options.Pattern); break;
                    default: SparseGptPruner.Prune(w, rows, cols, recorder.Statistics(s.Path).Hessian(), options.Pattern, options.BlockSize, options.Dampening); break;
                }
                WeightMatrix.FromOutIn(w, s, p.Value(s.WeightIndex));
                long zeros = 0;
                foreach (var v in p.Value(s.WeightIndex)) if (v == 0) zeros++;
                results.Add(new PrunedProjection(s.Path, layer.Key, (long)rows * cols, zeros));
                progress?.Report($"{s.Path}: {rows}×{cols}, {100.0 * zeros / ((long)rows * cols):F2}% zero");
            }
            recorder.Clear();
        }
        return new PruneReport
        {
            Method = Name(options.Method),
            Pattern = options.Pattern.ToString(),
            Projections = results,
            CalibrationWindows = calibrate ? windows.Count : 0,
            CalibrationTokens = calibrate ? (long)windows.Count * T : 0,
            Calibration = calibrate ? "sequential" : "none",
        };
    }

    internal static void RunCalibration(ICausalLanguageModel model, IReadOnlyList<int[]> windows, int T, int batchSize, CancellationToken cancellationToken)
    {
        var ids = new int[batchSize * T];
        var targets = new int[batchSize * T];
        for (int start = 0; start < windows.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(batchSize, windows.Count - start);
            for (int i = 0; i < b; i++)
            {
                var w = windows[start + i];
                w.AsSpan(0, T).CopyTo(ids.AsSpan(i * T, T));
                w.AsSpan(1, T).CopyTo(targets.AsSpan(i * T, T));
            }
            model.Forward(ids.AsSpan(0, b * T), targets.AsSpan(0, b * T), b, T);
        }
    }

    /// <summary>The CLI's name of a method.</summary>
    public static string Name(PruningMethod method) => method switch
    {
        PruningMethod.Magnitude => "magnitude",
        PruningMethod.Wanda => "wanda",
        _ => "sparsegpt",
    };
}
