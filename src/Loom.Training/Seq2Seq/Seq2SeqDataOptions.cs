// How text-to-text records are read and cut, with the defaults of Hugging Face's
// examples/pytorch/summarization/run_summarization.py (max_source_length 1024 → 512 for T5's
// relative positions, max_target_length 128, source_prefix "" — T5 tasks use e.g. "summarize: ").
using Loom.Core.Validation;

namespace Loom.Training.Seq2Seq;

/// <summary>Field names, prefix and length limits of seq2seq data.</summary>
public sealed record Seq2SeqDataOptions
{
    /// <summary>The JSON field holding the source text.</summary>
    public string SourceField { get; init; } = "source";

    /// <summary>The JSON field holding the target text.</summary>
    public string TargetField { get; init; } = "target";

    /// <summary>Put before every source (T5's task prefix, e.g. "summarize: ").</summary>
    public string SourcePrefix { get; init; } = "";

    /// <summary>Longest source in tokens, &lt;/s&gt; included; longer ones lose their end.</summary>
    public int MaxSourceLength { get; init; } = 512;

    /// <summary>Longest target in tokens, &lt;/s&gt; included; longer ones lose their end.</summary>
    public int MaxTargetLength { get; init; } = 128;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate(string prefix = "")
    {
        if (string.IsNullOrWhiteSpace(SourceField)) throw Setting.Error(prefix + "source_field", SourceField, "a JSON field name");
        if (string.IsNullOrWhiteSpace(TargetField)) throw Setting.Error(prefix + "target_field", TargetField, "a JSON field name");
        if (SourceField == TargetField) throw Setting.Error(prefix + "target_field", TargetField, $"a field other than {prefix}source_field");
        Setting.AtLeast(prefix + "max_source_length", MaxSourceLength, 2);
        Setting.AtLeast(prefix + "max_target_length", MaxTargetLength, 2);
    }
}
