// The masking settings of BERT pre-training, with Hugging Face's names and defaults
// (DataCollatorForLanguageModeling: mlm_probability 0.15, mask_replace_prob 0.8,
// random_replace_prob 0.1; DataCollatorForWholeWordMask for whole words). Devlin et al. 2019, §3.1
// and appendix A.1: 15% of the tokens are chosen; of those 80% become [MASK], 10% a random token and
// 10% stay as they are.
using Loom.Core.Validation;

namespace Loom.Training.Masking;

/// <summary>How tokens are chosen and replaced for the masked-LM objective.</summary>
public sealed record MaskedLanguageModelingOptions
{
    /// <summary>Chance that each non-special token is chosen for prediction (HF's mlm_probability).</summary>
    public double Probability { get; init; } = 0.15;

    /// <summary>Chance that a chosen token is replaced by [MASK] (HF's mask_replace_prob).</summary>
    public double MaskReplaceProbability { get; init; } = 0.8;

    /// <summary>Chance that a chosen token is replaced by a uniformly random id (HF's random_replace_prob); the rest stay unchanged.</summary>
    public double RandomReplaceProbability { get; init; } = 0.1;

    /// <summary>
    /// Choose whole words (a WordPiece token and the ## continuations after it) instead of single
    /// tokens, as DataCollatorForWholeWordMask: per sequence, round(T × probability) tokens' worth of
    /// words in random order, skipping a word that would overshoot.
    /// </summary>
    public bool WholeWordMask { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting (<paramref name="prefix"/> + its snake_case name) and its value.</summary>
    public void Validate(string prefix = "")
    {
        Setting.Between(prefix + "probability", Probability, 0, 1);
        if (!(MaskReplaceProbability >= 0 && MaskReplaceProbability <= 1))
            throw Setting.Error(prefix + "mask_replace_probability", MaskReplaceProbability, "between 0 and 1");
        if (!(RandomReplaceProbability >= 0 && RandomReplaceProbability <= 1))
            throw Setting.Error(prefix + "random_replace_probability", RandomReplaceProbability, "between 0 and 1");
        if (MaskReplaceProbability + RandomReplaceProbability > 1 + 1e-12)
            throw Setting.Error(prefix + "random_replace_probability", RandomReplaceProbability, $"at most 1 − {prefix}mask_replace_probability ({1 - MaskReplaceProbability:0.###})");
    }
}
