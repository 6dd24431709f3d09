// LIME for text, with lime_text.LimeTextExplainer's defaults (github.com/marcotcr/lime).
namespace Loom.Explain.Lime;

/// <summary>Settings of a LIME text explanation.</summary>
public sealed record LimeTextOptions
{
    /// <summary>Perturbed texts classified, the original included (lime: num_samples=5000).</summary>
    public int Samples { get; init; } = 5000;

    /// <summary>Words reported per class (lime: num_features=10).</summary>
    public int Features { get; init; } = 10;

    /// <summary>
    /// Width of the exponential kernel on cosine distance × 100 (lime_text: kernel_width=25):
    /// weight = sqrt(exp(−d²/width²)).
    /// </summary>
    public double KernelWidth { get; init; } = 25;

    /// <summary>
    /// Which classes to explain: the <see cref="TopLabels"/> most probable ones (lime's top_labels);
    /// 0 explains every class.
    /// </summary>
    public int TopLabels { get; init; } = 0;

    /// <summary>How features are chosen before the final fit (lime: feature_selection='auto').</summary>
    public LimeFeatureSelection FeatureSelection { get; init; } = LimeFeatureSelection.Auto;

    /// <summary>Ridge penalty of the explaining model (lime: Ridge(alpha=1)).</summary>
    public double Alpha { get; init; } = 1.0;

    /// <summary>Texts per classifier call (a model's batch, or one endpoint request each).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Seed of the perturbation sampler.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Samples < 2) throw new ArgumentException($"Samples is {Samples}; LIME needs at least 2 (the original and one perturbation), lime's default is 5000.");
        if (Features < 1) throw new ArgumentException($"Features is {Features}; report at least 1 word per class.");
        if (!(KernelWidth > 0) || !double.IsFinite(KernelWidth)) throw new ArgumentException($"KernelWidth is {KernelWidth}; it must be a positive number (lime_text: 25).");
        if (TopLabels < 0) throw new ArgumentException($"TopLabels is {TopLabels}; use 0 for every class or a positive count.");
        if (!(Alpha >= 0) || !double.IsFinite(Alpha)) throw new ArgumentException($"Alpha is {Alpha}; the ridge penalty must be ≥ 0.");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize is {BatchSize}; it must be at least 1.");
    }
}

/// <summary>lime_base.LimeBase.feature_selection's methods.</summary>
public enum LimeFeatureSelection
{
    /// <summary>forward_selection when Features ≤ 6, else highest_weights (lime's 'auto').</summary>
    Auto,
    /// <summary>Greedily add the feature that most raises the weighted R² of an unpenalised fit.</summary>
    ForwardSelection,
    /// <summary>The largest |coef × x₀| of a Ridge(alpha=0.01) fit on every feature.</summary>
    HighestWeights,
    /// <summary>Every feature.</summary>
    None,
}
