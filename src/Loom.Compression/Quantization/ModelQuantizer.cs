// `loom quantize`: reads an f32 model directory, quantizes every projection weight the model seam
// lists (ProjectionSpec: attention and MLP matmuls of every layer) to a block format, and writes a
// quantized model directory (Models/Quantization/QuantizedWeights: config.json + quantization_config,
// model.safetensors with U8 block tensors beside the f32 ones, the tokenizer files copied). As
// llama.cpp does, embeddings and norms stay float; so do biases and, unless asked, an untied head.
// A projection whose input width is not a multiple of the block (e.g. 100 with q4_k's 256) stays f32
// and is named in the report. The output directory is staged and moved into place at the end.
using System.Text.Json.Nodes;
using Loom.Compression.Calibration;
using Loom.Compression.Pruning;
using Loom.Core.IO;
using Loom.Core.Kernels.Quantized;
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Projections;
using Loom.Models.Quantization;
using Loom.Tokenizers;

namespace Loom.Compression.Quantization;

/// <summary>Writes quantized model directories.</summary>
public static class ModelQuantizer
{
    /// <summary>
    /// Quantizes <paramref name="modelDirectory"/> into <paramref name="outputDirectory"/> (which must
    /// not exist or be empty); <paramref name="progress"/> gets (tensors done, tensors to do).
    /// </summary>
    public static QuantizeReport Quantize(string modelDirectory, string outputDirectory, QuantizeOptions options,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (QuantizedWeights.IsQuantizedDirectory(modelDirectory))
            throw new ArgumentException($"--model {modelDirectory} is already quantized (its config.json has a {QuantizedWeights.ConfigField}); quantize the original f32 model instead.");
        if (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any())
            throw new IOException($"Output directory {outputDirectory} exists and is not empty; choose a new --output directory or remove it.");
        var configuration = CausalLanguageModels.ReadConfig(modelDirectory);
        var recorder = new CalibrationRecorder(gram: false);
        using var model = CausalLanguageModels.Load(modelDirectory, recorder.WrapOptions(ModelOptions.Inference));
        var p = model.Parameters;
        var format = options.Format;
        var kept = new List<string>();
        var chosen = QuantizedModels.Selectable(configuration, format, options.QuantizeHead, kept)
            .ToDictionary(kv => p.IndexOf(kv.Key), kv => kv.Value);
        int windows = 0;
        if (options.OutlierFraction > 0 && options.CalibrationFile is not null)
        {
            // One pass of the f32 model over the calibration windows records Σ x_j² at every chosen projection.
            var w = CalibrationSamples.FromFile(options.CalibrationFile, TokenizerLoader.Load(modelDirectory), options.Samples, model.ContextLength);
            foreach (var spec in chosen.Values) recorder.Active.Add(spec.Path);
            ModelPruner.RunCalibration(model, w, model.ContextLength, 8, cancellationToken);
            recorder.Active.Clear();
            windows = w.Count;
        }

        var items = new List<SafetensorsWriter.Item>();
        var extra = new List<SafetensorsWriter.Item>();
        var described = new List<QuantizedTensor>();
        long qBytes = 0, qWeights = 0, fBytes = 0, outliers = 0;
        int done = 0;
        for (int i = 0; i < p.Specs.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var s = p.Specs[i];
            if (chosen.TryGetValue(i, out var spec))
            {
                using var m = QuantizeWeight(spec, p.Value(i), options, windows > 0 ? recorder.Statistics(spec.Path).SquaredNorms : default);
                QuantizedWeightParts.AddItems(s.Name, m, items, extra);
                var t = QuantizedWeightParts.Describe(s.Name, format, m);
                described.Add(t);
                outliers += t.Outliers;
                qBytes += m.ByteLength;
                qWeights += s.Count;
                progress?.Report((++done, chosen.Count));
            }
            else
            {
                items.Add(new SafetensorsWriter.Item(s.Name, s.Shape, p.Value(i).ToArray()));
                fBytes += s.Count * sizeof(float);
            }
        }

        string staging = outputDirectory.TrimEnd('/', '\\') + ".tmp-quantize";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", [QuantizedWeights.MetadataKey] = QuantizedWeights.ToMetadata(described) };
        SafetensorsWriter.Write(Path.Combine(staging, "model.safetensors"), items, metadata);
        if (extra.Count > 0) SafetensorsWriter.Write(Path.Combine(staging, QuantizedWeightParts.ExtraFile), extra, new Dictionary<string, string> { ["format"] = "pt" });
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(modelDirectory, "config.json")))!.AsObject();
        config[QuantizedWeights.ConfigField] = new JsonObject
        {
            ["quant_method"] = "loom",
            ["format"] = QuantFormatInfo.Name(format),
            ["bits_per_weight"] = Math.Round(qWeights == 0 ? QuantFormatInfo.BitsPerWeight(format) : 8.0 * qBytes / qWeights, 4),
            ["double_quant"] = options.DoubleQuant,
            ["outlier_fraction"] = options.OutlierFraction,
            ["outliers"] = outliers,
            ["outlier_calibration"] = windows > 0 ? $"{windows} windows of {model.ContextLength} tokens from {Path.GetFileName(options.CalibrationFile)}" : null,
            ["quantized_tensors"] = described.Count,
            ["kept_float"] = "embeddings, norms, biases" + (options.QuantizeHead ? "" : ", output head"),
        };
        using (var w = DurableFile.Create(Path.Combine(staging, "config.json")))
        {
            w.Stream.Write(System.Text.Encoding.UTF8.GetBytes(config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })));
            w.Commit();
        }
        foreach (var f in Directory.EnumerateFiles(modelDirectory))
        {
            string name = Path.GetFileName(f);
            if (name is "model.safetensors" or "config.json") continue;
            File.Copy(f, Path.Combine(staging, name));
        }
        DurableFile.SyncDirectory(staging);
        if (Directory.Exists(outputDirectory)) Directory.Delete(outputDirectory);
        DurableFile.MoveDirectory(staging, outputDirectory);
        long fileBytes = new FileInfo(Path.Combine(outputDirectory, "model.safetensors")).Length;
        if (extra.Count > 0) fileBytes += new FileInfo(Path.Combine(outputDirectory, QuantizedWeightParts.ExtraFile)).Length;
        return new QuantizeReport(format, described.Count, qWeights, qBytes, kept, fBytes, fileBytes) { Outliers = outliers, CalibrationWindows = windows };
    }

    /// <summary>
    /// One projection weight (stored as <paramref name="spec"/> lays it out) in the form
    /// <paramref name="options"/> asks for: blocks, double-quantized NF4, and SpQR outliers weighed by
    /// <paramref name="inputSquaredNorms"/> (‖X_j‖² per input; empty: 1).
    /// </summary>
    public static IQuantizedWeight QuantizeWeight(ProjectionSpec spec, ReadOnlySpan<float> weight, QuantizeOptions options, ReadOnlySpan<double> inputSquaredNorms = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var outIn = QuantizedProjection.ToOutIn(spec, weight);
        int rows = spec.OutFeatures, cols = spec.InFeatures;
        Func<float[], IQuantizedWeight> quantize = options.DoubleQuant
            ? w => Nf4DoubleQuantMatrix.Quantize(w, rows, cols)
            : w => QuantizedMatrix.Quantize(options.Format, w, rows, cols);
        return SpqrOutliers.Quantize(outIn, rows, cols, options.Format, quantize, inputSquaredNorms, options.OutlierFraction);
    }
}
