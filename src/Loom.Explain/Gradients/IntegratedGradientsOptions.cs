// Integrated gradients settings; defaults follow Captum's IntegratedGradients (n_steps=50,
// method='gausslegendre').
namespace Loom.Explain.Gradients;

/// <summary>Settings of an integrated-gradients attribution.</summary>
public sealed record IntegratedGradientsOptions
{
    /// <summary>Points on the path from the baseline to the input (Gauss–Legendre nodes on [0, 1]).</summary>
    public int Steps { get; init; } = 50;

    /// <summary>Path points run as one batch (each a copy of the sequence with its own α).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Class index to attribute (null: the predicted class).</summary>
    public int? Target { get; init; }

    /// <summary>Tokens kept from the text (its head), specials included.</summary>
    public int MaxLength { get; init; } = 512;

    /// <summary>Tokens listed as top words.</summary>
    public int Features { get; init; } = 10;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"Steps is {Steps}; integrated gradients needs at least 1 point on the path (Captum's default is 50).");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize is {BatchSize}; it must be at least 1.");
        if (MaxLength < 3) throw new ArgumentException($"MaxLength is {MaxLength}; it must be at least 3.");
        if (Features < 1) throw new ArgumentException($"Features is {Features}; report at least 1 token.");
        if (Target is < 0) throw new ArgumentException($"Target is {Target}; a class index is ≥ 0.");
    }
}
