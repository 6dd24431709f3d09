// Settings of a dataset augmentation run (`loom augment`).
namespace Loom.Training.Augmentation;

/// <summary>How records are augmented.</summary>
public sealed record AugmentationOptions
{
    /// <summary>synonym, eda, mask (a BERT masked LM's fills), backtranslate or paraphrase.</summary>
    public required string Method { get; init; }
    /// <summary>Field holding the text; every other field (the label included) is copied unchanged.</summary>
    public string TextField { get; init; } = "text";
    /// <summary>New records tried per input record.</summary>
    public int PerRecord { get; init; } = 1;
    /// <summary>EDA's α: the share of words changed (Wei &amp; Zou 2019 use 0.1).</summary>
    public double Alpha { get; init; } = 0.1;
    /// <summary>Back-translation's pivot language.</summary>
    public string Pivot { get; init; } = "French";
    /// <summary>mask: words masked per new record (when the text holds no [MASK] of its own); 0: the share <see cref="Alpha"/> of its words (at least one).</summary>
    public int MaskWords { get; init; } = 1;
    /// <summary>mask: a fill is drawn from the masked LM's k most likely whole words, in proportion to probability.</summary>
    public int TopK { get; init; } = 5;
    /// <summary>Also write each input record (before its augmentations).</summary>
    public bool KeepOriginal { get; init; }
    public int Seed { get; init; }

    public static readonly string[] Methods = ["synonym", "eda", "mask", "backtranslate", "paraphrase"];

    public void Validate()
    {
        if (Array.IndexOf(Methods, Method) < 0) throw new ArgumentException($"--method is \"{Method}\"; it must be one of {string.Join(", ", Methods)}.");
        if (PerRecord < 1) throw new ArgumentException($"--per-record is {PerRecord}; it must be at least 1.");
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"--alpha is {Alpha}; it must be in (0, 1) (EDA's default 0.1).");
        if (MaskWords < 0) throw new ArgumentException($"--mask-words is {MaskWords}; it must be at least 0 (0: the share --alpha of the words).");
        if (TopK < 1) throw new ArgumentException($"--top-k is {TopK}; it must be at least 1.");
        if (string.IsNullOrWhiteSpace(TextField)) throw new ArgumentException("--field must name the text field.");
    }
}
