// The settings of T5's span-corruption objective with the paper's defaults (Raffel et al. 2020,
// §3.1.4 and §3.3.4: 15% of the tokens corrupted in spans of mean length 3) and the names of Hugging
// Face's run_t5_mlm_flax.py (noise_density, mean_noise_span_length).
using Loom.Core.Validation;

namespace Loom.Training.Seq2Seq;

/// <summary>How much of a sequence span corruption hides, and in how long spans.</summary>
public sealed record SpanCorruptionOptions
{
    /// <summary>Share of the tokens replaced by sentinels (HF's noise_density).</summary>
    public double NoiseDensity { get; init; } = 0.15;

    /// <summary>Mean length of a corrupted span (HF's mean_noise_span_length).</summary>
    public double MeanNoiseSpanLength { get; init; } = 3.0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting (<paramref name="prefix"/> + its snake_case name) and its value.</summary>
    public void Validate(string prefix = "")
    {
        if (!(NoiseDensity > 0 && NoiseDensity < 1)) throw Setting.Error(prefix + "noise_density", NoiseDensity, "strictly between 0 and 1");
        if (!(MeanNoiseSpanLength >= 1) || double.IsInfinity(MeanNoiseSpanLength)) throw Setting.Error(prefix + "mean_noise_span_length", MeanNoiseSpanLength, "a finite number of at least 1");
    }
}
