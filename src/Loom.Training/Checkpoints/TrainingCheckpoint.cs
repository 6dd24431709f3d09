// A training checkpoint: everything a run needs to continue bit for bit — weights
// (model.safetensors + config.json, loadable by `loom generate` and by Hugging Face), AdamW moments
// of the trainable parameters and step (optimizer.safetensors, with the trainable tensors' names so
// a resume with other roles is refused), and state.json (completed steps, data RNG state, options,
// best validation loss, the fixed settings a resume may not change, the dropout step). Written into "<name>.tmp", each file fsynced, then the directory is
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
    /// <summary>
    /// The settings that decide the data order and the shapes (train.batch_size, train.seed, data files
    /// and their content, tokenizer, ...), as the user names them; a resume that changes one is refused.
    /// Absent in checkpoints written before it existed.
    /// </summary>
    public Dictionary<string, string>? FixedSettings { get; init; }
    /// <summary>The model's dropout step (masks drawn so far), so a resumed run draws the same masks.</summary>
    public ulong DropoutStep { get; init; }
    /// <summary>The schedule's length once fitted to the time budget (train.fit_schedule_to_time_budget), so a resumed run keeps it; 0: not fitted.</summary>
    public int ScheduleSteps { get; init; }
    /// <summary>The step at which a fitted schedule is still to be re-fitted once (TrainOptions.FitScheduleToTimeBudget); 0: none pending (and in checkpoints written before it existed).</summary>
    public int ScheduleRefitStep { get; init; }
}

/// <summary>Writes, lists and reads checkpoints.</summary>
public static class TrainingCheckpoint
{
    private const string StateFile = "state.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes a checkpoint called step_NNNNNN under <paramref name="directory"/>; returns its path.</summary>
    public static string Save(string directory, ILanguageModel model, AdamWOptimizer optimizer, CheckpointState state) =>
        Save(directory, model, optimizer.FirstMoment.ToArray(), optimizer.SecondMoment.ToArray(), optimizer.Step, state);

    /// <summary>
    /// Writes a checkpoint from moments held elsewhere (a data-parallel run gathers its sharded moments into
    /// the single-process layout first, so any number of ranks can resume it).
    /// </summary>
    public static string Save(string directory, ILanguageModel model, float[] firstMoment, float[] secondMoment, int optimizerStep, CheckpointState state)
    {
        Directory.CreateDirectory(directory);
        string final = Path.Combine(directory, $"step_{state.Step:D6}");
        string tmp = final + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        model.Save(tmp);
        long floats = model.Parameters.GradientFloats;
        SafetensorsWriter.Write(Path.Combine(tmp, "optimizer.safetensors"),
        [
            new("adam.m", [floats], firstMoment),
            new("adam.v", [floats], secondMoment),
        ], new Dictionary<string, string> { ["step"] = optimizerStep.ToString(), ["trainable"] = TrainableDigest(model) });
        string statePath = Path.Combine(tmp, StateFile);
        DurableFile.Write(statePath, fs => JsonSerializer.Serialize(fs, state, Json));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        DurableFile.MoveDirectory(tmp, final);
        return final;
    }

    /// <summary>Complete checkpoints under <paramref name="directory"/>, oldest first — ordered by step number, not as text (step_1000000 comes after step_999999).</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetDirectories(directory, "step_*")
                .Select(d => (Path: d, Step: StepOf(d)))
                .Where(d => d.Step >= 0 && File.Exists(Path.Combine(d.Path, StateFile)))
                .OrderBy(d => d.Step).ThenBy(d => d.Path, StringComparer.Ordinal)
                .Select(d => d.Path).ToList()
            : [];

    /// <summary>The checkpoint with the highest step under <paramref name="directory"/>, or null.</summary>
    public static string? Latest(string directory) => List(directory) is { Count: > 0 } all ? all[^1] : null;

    /// <summary>The step of a checkpoint directory named step_N; −1 for any other name (step_N.tmp included).</summary>
    public static long StepOf(string path)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        return name.StartsWith("step_", StringComparison.Ordinal) && name.Length > 5 && name.AsSpan(5).IndexOfAnyExceptInRange('0', '9') < 0
               && long.TryParse(name.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long step)
            ? step : -1;
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> checkpoints by step (and <paramref name="protect"/>, the best one).</summary>
    public static void Prune(string directory, int keep, string? protect)
    {
        var all = List(directory);
        foreach (var d in all.Take(Math.Max(0, all.Count - keep)))
            if (!string.Equals(d, protect, StringComparison.Ordinal)) Directory.Delete(d, recursive: true);
    }

    /// <summary>Reads a checkpoint's state.json (no tensors).</summary>
    public static CheckpointState ReadState(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Checkpoint {path} does not exist.");
        string statePath = Path.Combine(path, StateFile);
        if (!File.Exists(statePath)) throw new FileNotFoundException($"{path} is not a complete checkpoint: {StateFile} is missing.", statePath);
        try
        {
            var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath), Json)
                ?? throw new InvalidDataException($"{statePath}: empty state.");
            // The directory's name says which step it holds; a state that disagrees (or is negative) is damaged.
            if (state.Step < 0 || (StepOf(path) is var named && named >= 0 && named != state.Step))
                throw new InvalidDataException($"{statePath} is damaged: it says step {state.Step} but the checkpoint is {Path.GetFileName(Path.TrimEndingDirectorySeparator(path))}.");
            return state;
        }
        catch (JsonException e) { throw new InvalidDataException($"{statePath} is damaged: {e.Message}", e); }
    }

    /// <summary>
    /// Refuses a resume whose <paramref name="current"/> settings differ from those the checkpoint
    /// recorded: a changed batch size, seed or data file would silently train on other batches than
    /// the run it claims to continue. Names each setting with both values.
    /// </summary>
    public static void EnsureSameFixedSettings(string path, CheckpointState state, IReadOnlyDictionary<string, string> current)
    {
        if (state.FixedSettings is not { } saved) return;
        var changes = new List<string>();
        foreach (var (key, was) in saved)
            if (!current.TryGetValue(key, out var now)) changes.Add($"{key} was {was} and is now absent");
            else if (now != was) changes.Add($"{key} was {was} and is now {now}");
        foreach (var (key, now) in current)
            if (!saved.ContainsKey(key)) changes.Add($"{key} is {now} but was absent");
        if (changes.Count > 0)
            throw new InvalidOperationException($"Cannot resume from {path}: {string.Join("; ", changes)}. These settings decide the data order and the shapes, so they cannot change on resume; " +
                                                "restore them, or start a new run (another output, or --overwrite).");
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> unless the checkpoint's config.json describes
    /// <paramref name="configuration"/>, naming each differing field with both values.
    /// </summary>
    public static void EnsureSameModel(string path, object configuration)
    {
        string configPath = Path.Combine(path, "config.json");
        object config = CausalLanguageModels.ReadConfig(path, causalOnly: false);
        var want = JsonSerializer.SerializeToNode(configuration, configuration.GetType())!.AsObject();
        var have = JsonSerializer.SerializeToNode(config, config.GetType())!.AsObject();
        // Name each differing field: "model.n_layer is 2 in the checkpoint and 3 in the configuration".
        var diffs = want.Select(kv => kv.Key).Union(have.Select(kv => kv.Key))
            .Where(k => !System.Text.Json.Nodes.JsonNode.DeepEquals(want[k], have[k]))
            .Select(k => $"model.{k} is {have[k]?.ToJsonString() ?? "absent"} in the checkpoint and {want[k]?.ToJsonString() ?? "absent"} in the configuration").ToList();
        if (diffs.Count > 0)
            throw new InvalidDataException($"{configPath} does not describe the model being trained: {string.Join("; ", diffs)}. The model's shape cannot change on resume.");
    }

    /// <summary>Loads a checkpoint into <paramref name="model"/> and <paramref name="optimizer"/>; returns its state.</summary>
    public static CheckpointState Load(string path, ILanguageModel model, AdamWOptimizer optimizer)
    {
        var state = Load(path, model, optimizer.FirstMoment, optimizer.SecondMoment, out int optimizerStep);
        optimizer.Restore(optimizerStep);
        return state;
    }

    /// <summary>Loads a checkpoint's weights into <paramref name="model"/> and its moments into the given spans (the gradient block's layout).</summary>
    public static CheckpointState Load(string path, ILanguageModel model, Span<float> firstMoment, Span<float> secondMoment, out int optimizerStep)
    {
        var state = ReadState(path);
        EnsureSameModel(path, model.Configuration);
        CausalLanguageModels.LoadWeights(model, Path.Combine(path, "model.safetensors"));
        string optPath = Path.Combine(path, "optimizer.safetensors");
        using (var opt = SafetensorsFile.Open(optPath))
        {
            // Checkpoints written before parameter roles had every tensor trainable and no digest.
            string digest = opt.Metadata.TryGetValue("trainable", out var d) ? d : AllTrainableDigest(model);
            if (digest != TrainableDigest(model))
                throw new InvalidDataException($"{path}: the checkpoint's optimizer state is for a different set of trainable parameters than the model being trained; resume with the same trainable/frozen choice.");
            long floats = model.Parameters.GradientFloats;
            opt.ReadSingle("adam.m", firstMoment, [floats]);
            opt.ReadSingle("adam.v", secondMoment, [floats]);
            // The moments cover the trainable tensors only, in the gradient block's layout.
            Loom.Models.Parameters.ParameterCheck.EnsureFiniteLikeGradients(model.Parameters, firstMoment, "adam.m", optPath);
            Loom.Models.Parameters.ParameterCheck.EnsureFiniteLikeGradients(model.Parameters, secondMoment, "adam.v", optPath);
            if (!opt.Metadata.TryGetValue("step", out var step) || !int.TryParse(step, out optimizerStep) || optimizerStep < 0)
                throw new InvalidDataException($"{optPath}: the metadata has no valid optimizer step (\"step\": {(step is null ? "absent" : $"\"{step}\"")}).");
        }
        return state;
    }

    // A short fingerprint of which tensors are trainable (their count and a hash of their names).
    private static string TrainableDigest(ILanguageModel model) =>
        Digest(model.Parameters.Specs.Where(s => s.IsTrainable).Select(s => s.Name));

    private static string AllTrainableDigest(ILanguageModel model) => Digest(model.Parameters.Specs.Select(s => s.Name));

    private static string Digest(IEnumerable<string> names)
    {
        var list = names.ToList();
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", list)));
        return $"{list.Count}:{Convert.ToHexString(hash, 0, 8)}";
    }
}
