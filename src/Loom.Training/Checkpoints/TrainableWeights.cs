// A checkpoint of the trainable part only (PEFT's adapter_model.safetensors + base_model_name_or_path):
// the tensors that train, plus a reference to the base model they were trained on — its directory
// and the SHA-256 of its model.safetensors — in the file's metadata. Fine-tuning a head or a few
// blocks of a large model then writes megabytes per checkpoint instead of the whole model. Loading
// checks the base's hash first: the saved tensors are a difference from that exact base, and on any
// other base they would give a silently wrong model.
using System.Security.Cryptography;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Training.Checkpoints;

/// <summary>Saves and loads only the trainable tensors of a model, with the base model they belong to.</summary>
public static class TrainableWeights
{
    /// <summary>The file a trainable-only checkpoint holds.</summary>
    public const string FileName = "trainable.safetensors";

    private const string BaseKey = "base_model", HashKey = "base_model_sha256";

    /// <summary>
    /// Writes <paramref name="directory"/>/trainable.safetensors: every trainable tensor of
    /// <paramref name="parameters"/> by name, and in the metadata the base model's directory and the
    /// SHA-256 of its model.safetensors.
    /// </summary>
    public static string Save(string directory, ParameterSet parameters, string baseModelDirectory)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string baseWeights = BaseWeights(baseModelDirectory);
        var items = parameters.Specs.Select((s, i) => (s, i)).Where(x => x.s.IsTrainable)
            .Select(x => new SafetensorsWriter.Item(x.s.Name, x.s.Shape, parameters.Value(x.i).ToArray())).ToList();
        if (items.Count == 0) throw new InvalidOperationException("The model has no trainable tensor; a trainable-only checkpoint would be empty. Save the whole model instead.");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileName);
        SafetensorsWriter.Write(path, items, new Dictionary<string, string>
        {
            ["format"] = "pt",
            [BaseKey] = Path.GetFullPath(baseModelDirectory),
            [HashKey] = Sha256(baseWeights),
        });
        return path;
    }

    /// <summary>The base model directory a trainable-only checkpoint refers to.</summary>
    public static string BaseModelOf(string directory)
    {
        using var file = Open(directory, out string path);
        return file.Metadata.TryGetValue(BaseKey, out var b) ? b
            : throw new InvalidDataException($"{path} names no base model (metadata \"{BaseKey}\" is missing); it is not a trainable-only checkpoint.");
    }

    /// <summary>
    /// Loads the trainable tensors of <paramref name="directory"/> into <paramref name="parameters"/>,
    /// which must already hold the base model's weights (from <paramref name="baseModelDirectory"/>, or
    /// the directory the checkpoint names). Refuses a base whose model.safetensors has another SHA-256,
    /// a missing or misshapen tensor, and a tensor the model does not train.
    /// </summary>
    public static void Load(string directory, ParameterSet parameters, string? baseModelDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var file = Open(directory, out string path);
        if (!file.Metadata.TryGetValue(BaseKey, out var savedBase) || !file.Metadata.TryGetValue(HashKey, out var savedHash))
            throw new InvalidDataException($"{path} names no base model (metadata \"{BaseKey}\" and \"{HashKey}\"); it is not a trainable-only checkpoint.");
        string baseDirectory = baseModelDirectory ?? savedBase;
        string hash = Sha256(BaseWeights(baseDirectory));
        if (!string.Equals(hash, savedHash, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path} was trained on the base model {savedBase} (model.safetensors SHA-256 {savedHash}), but {Path.Combine(baseDirectory, "model.safetensors")} has SHA-256 {hash}: " +
                                           "the base model changed or is another model. Load the checkpoint on the base it was trained on.");
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < parameters.Specs.Count; i++)
        {
            var s = parameters.Specs[i];
            if (!s.IsTrainable) continue;
            expected.Add(s.Name);
            if (!file.Tensors.ContainsKey(s.Name))
                throw new InvalidDataException($"{path}: no tensor \"{s.Name}\", which the model trains; the checkpoint was saved with other trainable tensors.");
            file.ReadSingle(s.Name, parameters.Value(i), s.Shape);
            ParameterCheck.EnsureFinite(parameters.Value(i), s.Name, path);
        }
        foreach (var name in file.Tensors.Keys)
            if (!expected.Contains(name))
                throw new InvalidDataException($"{path}: tensor \"{name}\" is not trainable in the model being loaded; build the model with the same trainable tensors as the run that saved it.");
    }

    private static SafetensorsFile Open(string directory, out string path)
    {
        path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no {FileName}; it is not a trainable-only checkpoint.", path);
        return SafetensorsFile.Open(path);
    }

    private static string BaseWeights(string baseModelDirectory)
    {
        if (!Directory.Exists(baseModelDirectory)) throw new DirectoryNotFoundException($"Base model directory {baseModelDirectory} does not exist; a trainable-only checkpoint needs the base model it was trained on.");
        string weights = Path.Combine(baseModelDirectory, "model.safetensors");
        if (!File.Exists(weights)) throw new FileNotFoundException($"Base model directory {baseModelDirectory} has no model.safetensors.", weights);
        return weights;
    }

    private static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
