// adapter_config.json, PEFT's LoraConfig serialised (peft/config.py PeftConfigMixin.to_dict /
// from_pretrained). Read: the fields Loom uses, checked and named as written; unknown keys are
// tolerated (PEFT adds fields every release), but fields that would change the math and that Loom
// does not implement (rank_pattern, alpha_pattern, layers_to_transform, use_dora, ...) are refused
// rather than ignored. Written: the fields PEFT needs to load the adapter back.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;

namespace Loom.Models.Adapters;

/// <summary>Reads and writes PEFT's adapter_config.json.</summary>
public static class LoraAdapterConfig
{
    /// <summary>The file name PEFT uses.</summary>
    public const string FileName = "adapter_config.json";

    /// <summary>Reads <paramref name="directory"/>/adapter_config.json into options; errors name the file and the field.</summary>
    public static LoraOptions Read(string directory)
    {
        if (File.Exists(directory)) throw new ArgumentException($"--adapter {directory} is a file; an adapter is a directory holding adapter_config.json and adapter_model.safetensors.");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Adapter directory {directory} does not exist.");
        InputFiles.RequireRegularMembers(directory, "Adapter directory");
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no {FileName}; an adapter directory holds {FileName} and adapter_model.safetensors (PEFT's save_pretrained).", path);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON (line {e.LineNumber + 1}): {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}", e); }
        if (node is not JsonObject json) throw new InvalidDataException($"{path} is not a JSON object; it should be PEFT's LoraConfig (peft_type, r, lora_alpha, target_modules, ...).");
        return Parse(json, path);
    }

    /// <summary>Parses a LoraConfig object; <paramref name="source"/> names the file in errors.</summary>
    public static LoraOptions Parse(JsonObject json, string source)
    {
        string peftType = String(json, "peft_type", source) ?? "LORA";
        if (peftType != "LORA")
            throw new NotSupportedException($"{source}: peft_type is \"{peftType}\"; Loom reads LoRA adapters only (peft_type \"LORA\").");
        foreach (var key in new[] { "rank_pattern", "alpha_pattern" })
            if (json[key] is JsonObject o && o.Count > 0)
                throw new NotSupportedException($"{source}: {key} sets per-module ranks or alphas ({o.ToJsonString()}); Loom supports one r and lora_alpha for every module. Retrain without it or merge the adapter in Python.");
        foreach (var key in new[] { "layers_to_transform", "layers_pattern" })
            if (json[key] is { } v && !(v is JsonArray { Count: 0 }))
                throw new NotSupportedException($"{source}: {key} is {v.ToJsonString()}; Loom adapts every layer a target name matches. Retrain without it.");
        foreach (var key in new[] { "use_dora", "use_qalora" })
            if (json[key] is JsonValue b && b.TryGetValue<bool>(out bool on) && on)
                throw new NotSupportedException($"{source}: {key} is true; Loom implements plain LoRA.");

        var options = new LoraOptions
        {
            Rank = Int(json, "r", source) ?? 8,
            Alpha = Float(json, "lora_alpha", source) ?? 8,
            Dropout = Float(json, "lora_dropout", source) ?? 0,
            UseRsLora = Bool(json, "use_rslora", source) ?? false,
            FanInFanOut = Bool(json, "fan_in_fan_out", source),
            BaseModelNameOrPath = String(json, "base_model_name_or_path", source),
            TaskType = String(json, "task_type", source) ?? "CAUSAL_LM",
            Bias = (String(json, "bias", source) ?? "none") switch
            {
                "none" => LoraBias.None,
                "all" => LoraBias.All,
                "lora_only" => LoraBias.LoraOnly,
                var other => throw new InvalidDataException($"{source}: bias is \"{other}\"; use \"none\", \"all\" or \"lora_only\"."),
            },
            ModulesToSave = Strings(json, "modules_to_save", source) ?? [],
        };
        switch (json["target_modules"])
        {
            case JsonArray:
                options = options with { TargetModules = Strings(json, "target_modules", source)! };
                break;
            case JsonValue v when v.TryGetValue<string>(out var s):
                options = s == LoraOptions.AllLinear ? options with { TargetModules = [s] } : options with { TargetModulesRegex = s };
                break;
            case null:
                throw new InvalidDataException($"{source}: target_modules is missing; the adapter must name the modules it adapts.");
            default:
                throw new InvalidDataException($"{source}: target_modules is {json["target_modules"]!.ToJsonString()}; it must be a list of names or a regular expression string.");
        }
        try { options.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }
        return options;
    }

    /// <summary>
    /// Writes <paramref name="directory"/>/adapter_config.json for <paramref name="options"/>, with
    /// target_modules as the module names actually adapted (PEFT also saves "all-linear" expanded).
    /// </summary>
    public static void Write(string directory, LoraOptions options, IEnumerable<string> targetNames, bool fanInFanOut)
    {
        var json = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = options.TaskType,
            ["base_model_name_or_path"] = options.BaseModelNameOrPath,
            ["r"] = options.Rank,
            ["lora_alpha"] = options.Alpha,
            ["lora_dropout"] = options.Dropout,
            ["target_modules"] = options.TargetModulesRegex is { } rx ? rx : new JsonArray(targetNames.Select(n => (JsonNode)n!).ToArray()),
            ["fan_in_fan_out"] = fanInFanOut,
            ["bias"] = options.Bias switch { LoraBias.All => "all", LoraBias.LoraOnly => "lora_only", _ => "none" },
            ["use_rslora"] = options.UseRsLora,
            ["modules_to_save"] = options.ModulesToSave.Count == 0 ? null : new JsonArray(options.ModulesToSave.Select(n => (JsonNode)n!).ToArray()),
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["layers_to_transform"] = null,
            ["layers_pattern"] = null,
            ["rank_pattern"] = new JsonObject(),
            ["alpha_pattern"] = new JsonObject(),
            ["use_dora"] = false,
            ["revision"] = null,
        };
        Directory.CreateDirectory(directory);
        DurableFile.WriteAllText(Path.Combine(directory, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static string? String(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var n => throw new InvalidDataException($"{source}: {key} is {n.ToJsonString()}; it must be a string."),
    };

    private static bool? Bool(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        var n => throw new InvalidDataException($"{source}: {key} is {n.ToJsonString()}; it must be true or false."),
    };

    private static float? Float(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<double>(out var d) => (float)d,
        var n => throw new InvalidDataException($"{source}: {key} is {n.ToJsonString()}; it must be a number."),
    };

    private static int? Int(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue => (int)d,
        var n => throw new InvalidDataException($"{source}: {key} is {n.ToJsonString()}; it must be a whole number."),
    };

    private static IReadOnlyList<string>? Strings(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        JsonArray a when a.All(e => e is JsonValue v && v.TryGetValue<string>(out _)) => a.Select(e => e!.GetValue<string>()).ToList(),
        var n => throw new InvalidDataException($"{source}: {key} is {n.ToJsonString()}; it must be a list of module names."),
    };
}
