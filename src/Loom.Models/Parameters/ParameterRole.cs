// What a parameter does during training.
namespace Loom.Models.Parameters;

/// <summary>Whether a parameter is updated by training.</summary>
public enum ParameterRole
{
    /// <summary>Has a gradient, optimizer moments and (with 16-bit training) an fp32 master.</summary>
    Trainable,
    /// <summary>Read-only: no gradient, no moments, never changed by a training step.</summary>
    Frozen,
}
