// Settings of a dataset augmentation run (`loom augment`).
namespace Loom.Training.Augmentation;

/// <summary>How records are augmented.</summary>
public sealed record AugmentationOptions
{
    /// <summary>synonym, eda, backtranslate or paraphrase (mask: see docs/DATA.md — not in this release).</summary>
    public required string Method { get; init; }
    /// <summary>Field holding the text; every other field (the label included) is copied unchanged.</summary>
    public string TextField { get; init; } = "text";
    /// <summary>New records tried per input record.</summary>
    public int PerRecord { get; init; } = 1;
    /// <summary>EDA's α: the share of words changed (Wei &amp; Zou 2019 use 0.1).</summary>
    public double Alpha { get; init; } = 0.1;
    /// <summary>Back-translation's pivot language.</summary>
    public string Pivot { get; init; } = "French";
    /// <summary>Also write each input record (before its augmentations).</summary>
    public bool KeepOriginal { get; init; }
    public int Seed { get; init; }

    public static readonly string[] Methods = ["synonym", "eda", "backtranslate", "paraphrase"];

    public void Validate()
    {
        if (Array.IndexOf(Methods, Method) < 0) throw new ArgumentException($"--method is \"{Method}\"; it must be one of {string.Join(", ", Methods)}.");
        if (PerRecord < 1) throw new ArgumentException($"--per-record is {PerRecord}; it must be at least 1.");
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"--alpha is {Alpha}; it must be in (0, 1) (EDA's default 0.1).");
        if (string.IsNullOrWhiteSpace(TextField)) throw new ArgumentException("--field must name the text field.");
    }
}
