// A run directory holds one run: its checkpoints, metrics.jsonl, reports and final model. A fresh run
// must never start in a directory that holds another one — pruning would delete the earlier run's
// checkpoints, metrics.jsonl would be cut, the model replaced, and a later --resume would pick the old
// run's last checkpoint. So a fresh run refuses a non-empty directory unless told to overwrite it, and
// overwriting removes the earlier run's files before anything new is written.
namespace Loom.Training.Checkpoints;

/// <summary>Guards the output directory of a training run.</summary>
public static class RunDirectory
{
    /// <summary>Files and folders a run writes (train, quickstart, finetune).</summary>
    public static IReadOnlyList<string> Artifacts { get; } =
        ["checkpoints", "metrics.jsonl", "report.html", "options.json", "train_config.json", "model.safetensors", "config.json", "tokenizer.json",
         "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
         "model", "folds", "finetune_config.json", "eval_results.json", "cv_summary.json",
         "adapter_config.json", "adapter_model.safetensors", "adapter"];

    /// <summary>
    /// Prepares <paramref name="directory"/> for a fresh run: an absent or empty directory is fine; a
    /// non-empty one is refused (naming --resume and --overwrite) unless <paramref name="overwrite"/>,
    /// which deletes the earlier run's <see cref="Artifacts"/> first.
    /// </summary>
    /// <summary>
    /// Checks, deleting nothing, that a fresh run may use <paramref name="directory"/>: empty or absent, or
    /// <paramref name="overwrite"/> and none of <paramref name="inputs"/> (init_from, tokenizer, data) inside it,
    /// since --overwrite would delete what the run is about to read. Call it before any work, and
    /// <see cref="PrepareFresh"/> only once everything the run needs has been checked and loaded.
    /// </summary>
    public static void CheckFresh(string directory, bool overwrite, IEnumerable<string?> inputs)
    {
        if (File.Exists(directory)) throw new IOException($"The output {directory} is a file, not a directory; choose another output.");
        if (!Directory.Exists(directory)) return;
        var entries = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        if (entries.Count == 0) return;
        if (!overwrite) throw Occupied(directory, entries!);
        string root = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        foreach (var input in inputs)
        {
            if (string.IsNullOrEmpty(input) || !(File.Exists(input) || Directory.Exists(input))) continue;
            string full = Path.GetFullPath(input);
            if ((full + Path.DirectorySeparatorChar).StartsWith(root, StringComparison.Ordinal))
                throw new ArgumentException($"--overwrite would delete the earlier run in {directory}, but this run reads {full} from it; choose another output, or move that input out first.");
        }
    }

    public static void PrepareFresh(string directory, bool overwrite)
    {
        if (File.Exists(directory)) throw new IOException($"The output {directory} is a file, not a directory; choose another output.");
        if (!Directory.Exists(directory)) return;
        var entries = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        if (entries.Count == 0) return;
        if (!overwrite) throw Occupied(directory, entries!);
        foreach (var name in Artifacts)
        {
            string path = Path.Combine(directory, name);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }
    }

    /// <summary>
    /// The library's safety net for a fresh run: throws when <paramref name="directory"/> already holds a
    /// run's history (checkpoints or metrics.jsonl), whatever the caller checked before.
    /// </summary>
    public static void EnsureNoRun(string directory)
    {
        string checkpoints = Path.Combine(directory, "checkpoints"), metrics = Path.Combine(directory, "metrics.jsonl");
        var found = new List<string>();
        if (Directory.Exists(checkpoints) && Directory.EnumerateFileSystemEntries(checkpoints).Any()) found.Add("checkpoints");
        if (File.Exists(metrics)) found.Add("metrics.jsonl");
        if (found.Count > 0) throw Occupied(directory, found);
    }

    private static IOException Occupied(string directory, IReadOnlyList<string> entries) =>
        new($"The output directory {directory} is not empty (it holds {string.Join(", ", entries.Take(6))}{(entries.Count > 6 ? ", ..." : "")}); " +
            "a fresh run there would destroy or mix with the earlier run. Pass --resume to continue that run, --overwrite to delete it and start again, or choose another output directory.");
}
