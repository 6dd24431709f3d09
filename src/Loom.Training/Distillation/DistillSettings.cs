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

    /// <summary>
    /// Offline distillation: a directory for the teacher's cached top-k log-probabilities (TeacherCache). Built
    /// by one teacher pass over data.train when absent, reused when present (checked against the data and
    /// settings); the student then trains on the cached chunks without running the teacher. Null: on the fly.
    /// </summary>
    public string? TeacherCache { get; init; }

    /// <summary>k of the cached teacher distribution: its k most likely ids per position, the rest one tail class.</summary>
    public int TopK { get; init; } = 16;

    /// <summary>Throws naming the first bad setting.</summary>
    public void Validate(string prefix = "distill.")
    {
        if (string.IsNullOrWhiteSpace(Teacher)) throw Setting.Error(prefix + "teacher", Teacher, "the teacher's model directory");
        if (!(Alpha >= 0 && Alpha <= 1)) throw Setting.Error(prefix + "alpha", Alpha, "a number from 0 to 1");
        Setting.Positive(prefix + "temperature", Temperature);
        if (TopK < 1) throw Setting.Error(prefix + "top_k", TopK, "a positive number of teacher ids kept per position (8 to 32 is usual)");
        if (TeacherCache is not null && string.IsNullOrWhiteSpace(TeacherCache)) throw Setting.Error(prefix + "teacher_cache", TeacherCache, "a directory for the teacher cache, or absent for on-the-fly distillation");
    }
}
