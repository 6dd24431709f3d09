// Binds a configuration tree (YAML converted to JSON) to a typed record, after applying `--set a.b=value`
// overrides, with errors in the user's terms: a value that does not bind is blamed on the --set
// argument that wrote it, else on the file, and named by its snake_case path (train.batch_size), never
// by a JSON line number. Shared by `loom train` (TrainConfig) and `loom finetune` (FineTuneConfig).
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Training.Loop;

/// <summary>YAML/JSON configuration binding with --set overrides.</summary>
public static class ConfigBinding
{
    /// <summary>
    /// Applies <paramref name="overrides"/> to <paramref name="root"/> and binds it to <typeparamref name="T"/> with
    /// <paramref name="json"/>. <paramref name="shape"/> says what the top level must be; <paramref name="keysHint"/> lists
    /// the keys in an unknown-key error.
    /// </summary>
    public static T Bind<T>(JsonNode? root, IEnumerable<string> overrides, string source, JsonSerializerOptions json, string shape, string keysHint) where T : new()
    {
        root ??= new JsonObject();
        if (root is not JsonObject obj)
            throw new FormatException($"{source}: the top level is {Describe(root)}; {shape}.");
        var applied = new List<(string Key, string Argument)>();
        foreach (var o in overrides) applied.Add((Apply(obj, o), o));
        try
        {
            return obj.Deserialize<T>(json) ?? new T();
        }
        catch (JsonException e)
        {
            string path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            // The last --set that wrote this path (or a value above or below it) is the culprit.
            string where = applied.LastOrDefault(a => path == a.Key || path.StartsWith(a.Key + ".", StringComparison.Ordinal) || a.Key.StartsWith(path + ".", StringComparison.Ordinal)) is { Argument: { } arg }
                ? $"--set \"{arg}\""
                : source;
            throw new FormatException($"{where}: {BindError(e, path, obj, keysHint)}", e);
        }
    }

    // What a JSON binding error means, in the user's terms.
    internal static string BindError(JsonException e, string path, JsonObject root, string keysHint)
    {
        string message = e.Message;
        var unmapped = System.Text.RegularExpressions.Regex.Match(message, "property '([^']*)' could not be mapped");
        if (unmapped.Success)
        {
            string key = path.EndsWith(unmapped.Groups[1].Value, StringComparison.Ordinal) ? path : (path.Length > 0 ? path + "." : "") + unmapped.Groups[1].Value;
            return $"{key} is not a setting (keys are snake_case: {keysHint}).";
        }
        JsonNode? value = root;
        foreach (var part in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
            value = value is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
        var type = System.Text.RegularExpressions.Regex.Match(message, @"converted to ([\w.`\[\]]+)");
        string? expected = type.Success ? type.Groups[1].Value.TrimEnd('.') switch
        {
            "System.Int32" or "System.Nullable`1[System.Int32]" => $"a whole number from {int.MinValue:N0} to {int.MaxValue:N0}",
            "System.Int64" => "a whole number",
            "System.Single" or "System.Double" or "System.Nullable`1[System.Double]" or "System.Nullable`1[System.Single]" => "a number",
            "System.Boolean" or "System.Nullable`1[System.Boolean]" => "true or false",
            "System.String" => "a string",
            var t when t.Contains("List", StringComparison.Ordinal) => "a list, e.g. [a.txt, b.txt]",
            var t when t.Contains("JsonObject", StringComparison.Ordinal) || t.Contains("Options", StringComparison.Ordinal) => "a mapping of settings",
            // A nested settings record (fine-tuning's data:) is a mapping too; never show the .NET type name.
            var t when t.EndsWith("FineTuneData", StringComparison.Ordinal) => "a mapping (train:, validation:, validation_fraction:, text_field:, ...)",
            var t when t.Contains("TrainingPrecision", StringComparison.Ordinal) => "fp32, bf16 or fp16",
            var t when t.Contains("TruncationPolicy", StringComparison.Ordinal) => "head, tail or head_tail",
            _ => null,
        } : null;
        if (path.Length > 0 && expected != null) return $"{path} is {Describe(value)}; it must be {expected}.";
        if (path.Length > 0 && type.Success) return $"{path} is {Describe(value)}, which is not a valid value for this setting; see docs/FINETUNING.md or docs/TRAINING.md.";
        return path.Length > 0 ? $"{path}: {message.Split(" Path:")[0]}" : message;
    }

    internal static string Describe(JsonNode? node) => node switch
    {
        null => "empty",
        JsonArray => "a list",
        JsonObject => "a mapping",
        _ => node.ToJsonString(),
    };

    // Applies one "a.b=value" override; returns its key path.
    internal static string Apply(JsonObject root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new FormatException($"--set \"{assignment}\": expected key=value (e.g. train.max_steps=100).");
        string key = assignment[..eq].Trim();
        string[] path = key.Split('.');
        if (path.Any(p => p.Length == 0)) throw new FormatException($"--set \"{assignment}\": the key \"{key}\" has an empty part; write it as section.setting, e.g. train.max_steps=100.");
        string raw = assignment[(eq + 1)..];
        JsonObject node = root;
        for (int i = 0; i < path.Length - 1; i++)
        {
            if (node[path[i]] is not JsonObject child)
            {
                if (node[path[i]] is not null)
                    throw new FormatException($"--set \"{assignment}\": {string.Join('.', path[..(i + 1)])} is {Describe(node[path[i]])}, not a mapping of settings.");
                node[path[i]] = child = new JsonObject();
            }
            node = child;
        }
        // A value that parses as JSON (number, bool, list) is taken as such; anything else is a string.
        JsonNode? value;
        // "~" is YAML's null, as in the file (a lone ~ is not expanded to a home directory inside --set).
        if (raw.Trim() == "~") value = null;
        else
        {
            try { value = JsonNode.Parse(raw); }
            catch (JsonException) { value = JsonValue.Create(raw); }
        }
        node[path[^1]] = value;
        return key;
    }
}
