// One parameter tensor's place in a ParameterSet: its Hugging Face name, shape, offset in the value
// block, whether weight decay applies, and its role. Only a trainable tensor has a place in the
// gradient block (GradientOffset); a frozen one has none, and neither optimizer moments nor
// mixed-precision masters (PEFT's "freeze the base by marking it", not by copying the model).
namespace Loom.Models.Parameters;

/// <summary>One parameter tensor's place in the value block and, when trainable, in the gradient block.</summary>
public sealed record ParameterSpec(string Name, long[] Shape, long Offset, bool WeightDecay)
{
    /// <summary>Number of elements.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Trainable or frozen.</summary>
    public ParameterRole Role { get; init; } = ParameterRole.Trainable;

    /// <summary>True when the tensor has a gradient (and optimizer moments).</summary>
    public bool IsTrainable => Role == ParameterRole.Trainable;

    /// <summary>Offset of the gradient in the gradient block; −1 when frozen.</summary>
    public long GradientOffset { get; init; } = -1;
}
