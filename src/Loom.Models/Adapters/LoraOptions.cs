// PEFT's LoraConfig (peft/tuners/lora/config.py) as a .NET options record, with PEFT's field names in
// the docs so adapter_config.json maps one to one. Defaults are PEFT's, except r (PEFT 8, here 8 too)
// and target_modules, which PEFT requires for unknown architectures and which must be given here.
namespace Loom.Models.Adapters;

/// <summary>A LoRA adapter's settings (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models").</summary>
public sealed record LoraOptions
{
    /// <summary>The value of <see cref="TargetModules"/> that selects every linear layer except the output layer (PEFT's "all-linear").</summary>
    public const string AllLinear = "all-linear";

    /// <summary><c>r</c>: the rank of A (r × in) and B (out × r). Default 8.</summary>
    public int Rank { get; init; } = 8;

    /// <summary><c>lora_alpha</c>: the update is scaled by alpha / r (alpha / √r with rsLoRA). Default 8.</summary>
    public float Alpha { get; init; } = 8;

    /// <summary><c>lora_dropout</c>: dropout on the adapter's input, in training mode only. Default 0.</summary>
    public float Dropout { get; init; }

    /// <summary>
    /// <c>target_modules</c>: module names matched as PEFT does (a module whose path equals a name or
    /// ends with "." + name), or the single entry "all-linear". Required.
    /// </summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];

    /// <summary>
    /// <c>target_modules</c> given as one string: PEFT then matches it as a regular expression against
    /// the whole module path (re.fullmatch). Null when <see cref="TargetModules"/> is a list.
    /// </summary>
    public string? TargetModulesRegex { get; init; }

    /// <summary><c>bias</c>: which biases train. Default none.</summary>
    public LoraBias Bias { get; init; } = LoraBias.None;

    /// <summary><c>use_rslora</c>: scale by alpha / √r (Kalajdzievski 2023, "A Rank Stabilization Scaling Factor for Fine-Tuning with LoRA").</summary>
    public bool UseRsLora { get; init; }

    /// <summary><c>modules_to_save</c>: modules trained in full and saved with the adapter (a classifier's <c>score</c> or <c>classifier</c>).</summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];

    /// <summary><c>fan_in_fan_out</c>: the base weight is stored (in, out), GPT-2's Conv1D. Null: taken from the model (what PEFT does for Conv1D, with a warning).</summary>
    public bool? FanInFanOut { get; init; }

    /// <summary><c>base_model_name_or_path</c>, written to adapter_config.json.</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary><c>task_type</c>: CAUSAL_LM, SEQ_CLS, ... Written to adapter_config.json. Default CAUSAL_LM.</summary>
    public string TaskType { get; init; } = "CAUSAL_LM";

    /// <summary>Seed of A's Kaiming-uniform initialisation and of the dropout masks.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>The factor the update B·A is multiplied by: alpha / r, or alpha / √r with rsLoRA (PEFT lora/layer.py update_layer).</summary>
    public float Scaling => UseRsLora ? Alpha / MathF.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field (<paramref name="prefix"/> + PEFT's field name) and its value.</summary>
    public void Validate(string prefix = "")
    {
        if (Rank < 1) throw new ArgumentException($"{prefix}r is {Rank}; the rank must be at least 1 (8 or 16 are common).");
        if (!float.IsFinite(Alpha) || Alpha <= 0) throw new ArgumentException($"{prefix}lora_alpha is {Alpha}; it must be a positive number (often r or 2·r).");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"{prefix}lora_dropout is {Dropout}; it must be in [0, 1).");
        if (TargetModulesRegex is null && TargetModules.Count == 0)
            throw new ArgumentException($"{prefix}target_modules is empty; name the projections to adapt (c_attn, q_proj, v_proj, ...) or use \"all-linear\".");
        if (TargetModules.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException($"{prefix}target_modules holds an empty name; remove it.");
        if (TargetModules.Contains(AllLinear) && TargetModules.Count > 1)
            throw new ArgumentException($"{prefix}target_modules mixes \"all-linear\" with names ({string.Join(", ", TargetModules)}); give one or the other.");
        if (TargetModulesRegex is not null)
        {
            try { _ = new System.Text.RegularExpressions.Regex(TargetModulesRegex); }
            catch (ArgumentException e) { throw new ArgumentException($"{prefix}target_modules \"{TargetModulesRegex}\" is not a valid regular expression: {e.Message}"); }
        }
    }
}
