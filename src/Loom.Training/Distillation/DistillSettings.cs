// The `distill:` section of a `loom finetune` configuration with task: distill.
using Loom.Core.Validation;

namespace Loom.Training.Distillation;

/// <summary>Distillation settings.</summary>
public sealed record DistillSettings
{
    /// <summary>The teacher's model directory (config.json, model.safetensors); loaded frozen.</summary>
    public string? Teacher { get; init; }

    /// <summary>α: weight of the soft term α·T²·KL; 1 − α weighs the hard cross-entropy. 0 trains without the teacher.</summary>
    public float Alpha { get; init; } = 0.5f;

    /// <summary>T: softmax temperature of the soft term (Hinton et al. 2015 use 1..20; 2 is common for LMs).</summary>
    public float Temperature { get; init; } = 2f;

    /// <summary>Throws naming the first bad setting.</summary>
    public void Validate(string prefix = "distill.")
    {
        if (string.IsNullOrWhiteSpace(Teacher)) throw Setting.Error(prefix + "teacher", Teacher, "the teacher's model directory");
        if (!(Alpha >= 0 && Alpha <= 1)) throw Setting.Error(prefix + "alpha", Alpha, "a number from 0 to 1");
        Setting.Positive(prefix + "temperature", Temperature);
    }
}
