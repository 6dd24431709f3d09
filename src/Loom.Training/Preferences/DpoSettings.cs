// The `dpo:` section of a `loom finetune` configuration with task: dpo.
using Loom.Core.Validation;

namespace Loom.Training.Preferences;

/// <summary>DPO settings (TRL's DPOConfig names).</summary>
public sealed record DpoSettings
{
    /// <summary>β: how far the policy may move from the reference (Rafailov et al. 2023; TRL's default 0.1).</summary>
    public float Beta { get; init; } = 0.1f;

    /// <summary>Throws naming the first bad setting.</summary>
    public void Validate(string prefix = "dpo.") => Setting.Positive(prefix + "beta", Beta);
}
