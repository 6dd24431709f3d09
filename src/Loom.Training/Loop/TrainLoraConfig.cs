// The `lora:` section of a `loom train` configuration: PEFT's LoraConfig fields under their PEFT
// names (r, lora_alpha, lora_dropout, target_modules, bias, use_rslora, modules_to_save), so a
// PEFT recipe's numbers carry over unchanged. With it the run fine-tunes init_from's model through
// a LoRA adapter and writes adapter_config.json + adapter_model.safetensors instead of the model.
using System.Text.Json.Nodes;
using Loom.Models.Adapters;

namespace Loom.Training.Loop;

/// <summary>LoRA settings of a training run (PEFT's names and defaults).</summary>
public sealed record TrainLoraConfig
{
    /// <summary>r: the adapter's rank.</summary>
    public int R { get; init; } = 8;
    /// <summary>lora_alpha: the update is scaled by lora_alpha / r.</summary>
    public float LoraAlpha { get; init; } = 8;
    /// <summary>lora_dropout on the adapter's input while training.</summary>
    public float LoraDropout { get; init; }
    /// <summary>target_modules: a list of module names (c_attn, q_proj, ...), "all-linear", or a regular expression string.</summary>
    public JsonNode? TargetModules { get; init; }
    /// <summary>bias: none, all or lora_only.</summary>
    public string Bias { get; init; } = "none";
    /// <summary>use_rslora: scale by lora_alpha / √r.</summary>
    public bool UseRslora { get; init; }
    /// <summary>modules_to_save: modules trained in full and saved with the adapter.</summary>
    public List<string> ModulesToSave { get; init; } = [];
    /// <summary>
    /// base_quantization: hold the frozen base's projection weights quantized while training (QLoRA:
    /// nf4; also q8_0, q4_0, q4_k, q6_k); null (default) keeps the base in f32.
    /// </summary>
    public string? BaseQuantization { get; init; }

    /// <summary>
    /// base_double_quant: with base_quantization nf4, also quantize the base's fp32 block absmaxes to
    /// 8 bits in groups of 256 (QLoRA §3 "Double Quantization"; bitsandbytes' bnb_4bit_use_double_quant).
    /// </summary>
    public bool BaseDoubleQuant { get; init; }

    /// <summary>base_double_quant, checked: it needs base_quantization nf4.</summary>
    public bool DoubleQuant()
    {
        if (!BaseDoubleQuant) return false;
        if (BaseFormat() != Loom.Core.Kernels.Quantized.QuantFormat.NF4)
            throw new ArgumentException($"lora.base_double_quant: true needs lora.base_quantization: nf4 (it quantizes NF4's block absmaxes); base_quantization is {BaseQuantization ?? "not set"}.");
        return true;
    }

    /// <summary>The base_quantization format, or null; an unknown name is refused as lora.base_quantization.</summary>
    public Loom.Core.Kernels.Quantized.QuantFormat? BaseFormat() =>
        BaseQuantization is null ? null : Loom.Core.Kernels.Quantized.QuantFormatInfo.Parse(BaseQuantization, "lora.base_quantization");

    /// <summary>The library options, checked and named as the YAML writes them (lora.r, lora.target_modules, ...).</summary>
    public LoraOptions ToOptions(string? baseModel, int seed)
    {
        var options = new LoraOptions
        {
            Rank = R, Alpha = LoraAlpha, Dropout = LoraDropout, UseRsLora = UseRslora, ModulesToSave = ModulesToSave ?? [],
            BaseModelNameOrPath = baseModel, Seed = seed,
            Bias = Bias switch
            {
                "none" => LoraBias.None,
                "all" => LoraBias.All,
                "lora_only" => LoraBias.LoraOnly,
                _ => throw new ArgumentException($"lora.bias is \"{Bias}\"; use none, all or lora_only."),
            },
        };
        options = TargetModules switch
        {
            JsonArray a when a.All(n => n is JsonValue v && v.TryGetValue<string>(out _)) => options with { TargetModules = a.Select(n => n!.GetValue<string>()).ToList() },
            JsonValue v when v.TryGetValue<string>(out var s) => s == LoraOptions.AllLinear ? options with { TargetModules = [s] } : options with { TargetModulesRegex = s },
            null => throw new ArgumentException("lora.target_modules is missing; name the projections to adapt, e.g. target_modules: [c_attn] (GPT-2), [q_proj, v_proj] (Llama), or all-linear."),
            var n => throw new ArgumentException($"lora.target_modules is {n.ToJsonString()}; give a list of module names, all-linear, or a regular expression string."),
        };
        options.Validate("lora.");
        BaseFormat();
        return options;
    }
}
