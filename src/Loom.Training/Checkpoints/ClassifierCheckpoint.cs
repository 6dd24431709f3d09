// A fine-tuning checkpoint: the classifier as a Hugging Face directory (model.safetensors +
// config.json, so any checkpoint loads in `loom classify` or transformers), trainer_state.safetensors
// (the parameter block exactly as trained, and AdamW's moments of the trainable tensors, so a resume
// continues bit for bit whatever names the family's Save writes), and state.json (TrainingCheckpoint's
// record: step, optimizer step, loss scale, dropout step, the fixed settings a resume may not
// change). Written into "<name>.tmp" and renamed, as TrainingCheckpoint does; listing, pruning and
// state reading are TrainingCheckpoint's.
using System.Text.Json;
using Loom.Core.IO;
using Loom.Models;
using Loom.Models.Classification;
using Loom.Models.Formats;
using Loom.Training.Optimizers;

namespace Loom.Training.Checkpoints;

/// <summary>Writes and restores fine-tuning checkpoints.</summary>
public static class ClassifierCheckpoint
{
    private const string TrainerState = "trainer_state.safetensors";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes step_NNNNNN under <paramref name="directory"/>; <paramref name="extras"/> adds files (the tokenizer) to the model directory. Returns its path.</summary>
    public static string Save(string directory, ISequenceClassificationModel model, AdamWOptimizer optimizer, CheckpointState state, Action<string>? extras = null)
    {
        Directory.CreateDirectory(directory);
        string final = Path.Combine(directory, $"step_{state.Step:D6}");
        string tmp = final + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        model.Save(tmp);
        extras?.Invoke(tmp);
        var p = model.Parameters;
        SafetensorsWriter.Write(Path.Combine(tmp, TrainerState),
        [
            new("parameters", [p.Floats], p.AllValues.ToArray()),
            new("adam.m", [p.GradientFloats], optimizer.FirstMoment.ToArray()),
            new("adam.v", [p.GradientFloats], optimizer.SecondMoment.ToArray()),
        ], new Dictionary<string, string> { ["step"] = optimizer.Step.ToString(System.Globalization.CultureInfo.InvariantCulture), ["layout"] = Layout(model) });
        DurableFile.Write(Path.Combine(tmp, "state.json"), fs => JsonSerializer.Serialize(fs, state, Json));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        DurableFile.MoveDirectory(tmp, final);
        return final;
    }

    /// <summary>Restores the parameters and optimizer of a checkpoint into <paramref name="model"/> (built with the same configuration); returns its state.</summary>
    public static CheckpointState Load(string path, ISequenceClassificationModel model, AdamWOptimizer optimizer)
    {
        var state = TrainingCheckpoint.ReadState(path);
        string file = Path.Combine(path, TrainerState);
        if (!File.Exists(file)) throw new FileNotFoundException($"{path} is not a fine-tuning checkpoint: {TrainerState} is missing.", file);
        using var st = SafetensorsFile.Open(file);
        if (!st.Metadata.TryGetValue("layout", out var layout) || layout != Layout(model))
            throw new InvalidDataException($"{file}: the checkpoint's parameters are laid out for another model (or other trainable/frozen roles) than the one being trained; resume with the same model settings.");
        var p = model.Parameters;
        st.ReadSingle("parameters", p.AllValues, [p.Floats]);
        st.ReadSingle("adam.m", optimizer.FirstMoment, [p.GradientFloats]);
        st.ReadSingle("adam.v", optimizer.SecondMoment, [p.GradientFloats]);
        foreach (var (name, values) in new[] { ("parameters", p.AllValues.ToArray()), ("adam.m", optimizer.FirstMoment.ToArray()), ("adam.v", optimizer.SecondMoment.ToArray()) })
        {
            int bad = Array.FindIndex(values, v => !float.IsFinite(v));
            if (bad >= 0) throw new InvalidDataException($"{file}: {name} holds {values[bad]} at element {bad}; the checkpoint is damaged. Resume from an earlier one.");
        }
        if (!st.Metadata.TryGetValue("step", out var step) || !int.TryParse(step, out int optimizerStep) || optimizerStep < 0)
            throw new InvalidDataException($"{file}: the metadata has no valid optimizer step.");
        optimizer.Restore(optimizerStep);
        if (model is ITrainingMode mode) mode.DropoutStep = state.DropoutStep;
        return state;
    }

    /// <summary>Restores only the parameters of a checkpoint (the best model at the end of a run).</summary>
    public static void LoadParameters(string path, ISequenceClassificationModel model)
    {
        string file = Path.Combine(path, TrainerState);
        if (!File.Exists(file)) throw new FileNotFoundException($"{path} is not a fine-tuning checkpoint: {TrainerState} is missing.", file);
        using var st = SafetensorsFile.Open(file);
        if (!st.Metadata.TryGetValue("layout", out var layout) || layout != Layout(model))
            throw new InvalidDataException($"{file}: the checkpoint's parameters are laid out for another model than the one being trained.");
        st.ReadSingle("parameters", model.Parameters.AllValues, [model.Parameters.Floats]);
    }

    // Names, shapes and roles of every tensor: a checkpoint restores only into the same layout.
    private static string Layout(ISequenceClassificationModel model)
    {
        var text = string.Join("\n", model.Parameters.Specs.Select(s => $"{s.Name}:{string.Join('x', s.Shape)}:{(s.IsTrainable ? 't' : 'f')}"));
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return $"{model.Parameters.Specs.Count}:{Convert.ToHexString(hash, 0, 8)}";
    }
}
