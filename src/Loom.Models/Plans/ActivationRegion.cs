// A handle on one planned region of an activation block: where it starts and how long it is. Only
// ActivationPlan makes regions, so the span a region gives is always inside the block (Release
// needs no check); Debug builds also check that the region belongs to the plan it is used with.
namespace Loom.Models.Plans;

/// <summary>A region of an <see cref="ActivationPlan"/>: offset and length in floats.</summary>
public readonly struct ActivationRegion
{
    internal readonly long Offset;
    internal readonly int PlanId;

    /// <summary>Floats in the region.</summary>
    public int Length { get; }

    internal ActivationRegion(long offset, int length, int planId)
    {
        Offset = offset;
        Length = length;
        PlanId = planId;
    }

    /// <summary>The sub-region [start, start + length); throws when it does not fit.</summary>
    public ActivationRegion Slice(int start, int length)
    {
        if (start < 0 || length < 0 || (long)start + length > Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {(long)start + length}) is outside a region of {Length} floats.");
        return new ActivationRegion(Offset + start, length, PlanId);
    }

    /// <summary>True for the default (never planned) region.</summary>
    public bool IsEmpty => Length == 0;
}
