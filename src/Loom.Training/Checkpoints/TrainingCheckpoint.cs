// A training checkpoint: everything a run needs to continue bit for bit — weights
// (model.safetensors + config.json, loadable by `loom generate` and by Hugging Face), AdamW moments
// of the trainable parameters and step (optimizer.safetensors, with the trainable tensors' names so
// a resume with other roles is refused), and state.json (completed steps, data RNG state, options,
// best validation loss). Written into "<name>.tmp", each file fsynced, then the directory is
// renamed, so a crash leaves either the previous checkpoint or the complete new one.
using Loom.Core.IO;
using System.Text.Json;
using Loom.Models.Formats;
using Loom.Models;
using Loom.Training.Optimizers;

namespace Loom.Training.Checkpoints;

/// <summary>The small state of a run beside its tensors.</summary>
public sealed record CheckpointState(int Step, ulong DataRngState, int OptimizerStep, float BestValidationLoss, string OptionsJson)
{
    /// <summary>Items the data sampler had consumed since <see cref="DataRngState"/> (−1: none to replay).</summary>
    public long DataPosition { get; init; } = -1;
    /// <summary>The fp16 loss scale (1 otherwise).</summary>
    public float LossScale { get; init; } = 1f;
    /// <summary>Updates skipped for fp16 overflow so far.</summary>
    public int SkippedSteps { get; init; }
    /// <summary>The model's dropout step (masks drawn so far), so a resumed run draws the same masks.</summary>
    public ulong DropoutStep { get; init; }
}

/// <summary>Writes, lists and reads checkpoints.</summary>
public static class TrainingCheckpoint
{
    private const string StateFile = "state.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes a checkpoint called step_NNNNNN under <paramref name="directory"/>; returns its path.</summary>
    public static string Save(string directory, ICausalLanguageModel model, AdamWOptimizer optimizer, CheckpointState state)
    {
        Directory.CreateDirectory(directory);
        string final = Path.Combine(directory, $"step_{state.Step:D6}");
        string tmp = final + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        model.Save(tmp);
        long floats = model.Parameters.GradientFloats;
        SafetensorsWriter.Write(Path.Combine(tmp, "optimizer.safetensors"),
        [
            new("adam.m", [floats], optimizer.FirstMoment.ToArray()),
            new("adam.v", [floats], optimizer.SecondMoment.ToArray()),
        ], new Dictionary<string, string> { ["step"] = optimizer.Step.ToString(), ["trainable"] = TrainableDigest(model) });
        string statePath = Path.Combine(tmp, StateFile);
        DurableFile.Write(statePath, fs => JsonSerializer.Serialize(fs, state, Json));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        DurableFile.MoveDirectory(tmp, final);
        return final;
    }

    /// <summary>Complete checkpoints under <paramref name="directory"/>, oldest first.</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetDirectories(directory, "step_*").Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal) && File.Exists(Path.Combine(d, StateFile))).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Deletes all but the newest <paramref name="keep"/> checkpoints (and <paramref name="protect"/>, the best one).</summary>
    public static void Prune(string directory, int keep, string? protect)
    {
        var all = List(directory);
        foreach (var d in all.Take(Math.Max(0, all.Count - keep)))
            if (!string.Equals(d, protect, StringComparison.Ordinal)) Directory.Delete(d, recursive: true);
    }

    /// <summary>Loads a checkpoint into <paramref name="model"/> and <paramref name="optimizer"/>; returns its state.</summary>
    public static CheckpointState Load(string path, ICausalLanguageModel model, AdamWOptimizer optimizer)
    {
        string statePath = Path.Combine(path, StateFile);
        if (!File.Exists(statePath)) throw new FileNotFoundException($"{path} is not a complete checkpoint: {StateFile} is missing.", statePath);
        var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath), Json)
            ?? throw new InvalidDataException($"{statePath}: empty state.");
        string configPath = Path.Combine(path, "config.json");
        string want = CausalLanguageModels.Describe(model.Configuration);
        object? config;
        try
        {
            string text = File.ReadAllText(configPath);
            string? type = System.Text.Json.Nodes.JsonNode.Parse(text)?["model_type"]?.GetValue<string>();
            string? expected = JsonSerializer.SerializeToNode(model.Configuration)?["model_type"]?.GetValue<string>();
            if (type != expected)
                throw new InvalidDataException($"{path}: the checkpoint holds a \"{type}\" model; the model being trained is \"{expected}\" ({want}).");
            config = JsonSerializer.Deserialize(text, model.Configuration.GetType());
        }
        catch (JsonException e) { throw new InvalidDataException($"{configPath} does not describe the model being trained ({want}): {e.Message}", e); }
        if (config is null || !config.Equals(model.Configuration))
            throw new InvalidDataException($"{path}: the checkpoint's model ({(config is null ? "none" : CausalLanguageModels.Describe(config))}) is not the model being trained ({want}).");
        using (var weights = SafetensorsFile.Open(Path.Combine(path, "model.safetensors"))) model.LoadWeights(weights);
        using (var opt = SafetensorsFile.Open(Path.Combine(path, "optimizer.safetensors")))
        {
            // Checkpoints written before parameter roles had every tensor trainable and no digest.
            string digest = opt.Metadata.TryGetValue("trainable", out var d) ? d : AllTrainableDigest(model);
            if (digest != TrainableDigest(model))
                throw new InvalidDataException($"{path}: the checkpoint's optimizer state is for a different set of trainable parameters than the model being trained; resume with the same trainable/frozen choice.");
            long floats = model.Parameters.GradientFloats;
            opt.ReadSingle("adam.m", optimizer.FirstMoment, [floats]);
            opt.ReadSingle("adam.v", optimizer.SecondMoment, [floats]);
            optimizer.Restore(int.Parse(opt.Metadata["step"]));
        }
        return state;
    }

    // A short fingerprint of which tensors are trainable (their count and a hash of their names).
    private static string TrainableDigest(ICausalLanguageModel model) =>
        Digest(model.Parameters.Specs.Where(s => s.IsTrainable).Select(s => s.Name));

    private static string AllTrainableDigest(ICausalLanguageModel model) => Digest(model.Parameters.Specs.Select(s => s.Name));

    private static string Digest(IEnumerable<string> names)
    {
        var list = names.ToList();
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", list)));
        return $"{list.Count}:{Convert.ToHexString(hash, 0, 8)}";
    }
}
