// The seq2seq: section of a `loom finetune` configuration (task: seq2seq), with the names and
// defaults of Hugging Face's run_summarization.py where it has them (source_prefix, max_source_length,
// max_target_length, num_beams; val_max_target_length → max_new_tokens) and the data's field names.
using Loom.Core.Validation;

namespace Loom.Training.Seq2Seq;

/// <summary>Text-to-text fine-tuning settings.</summary>
public sealed record Seq2SeqSettings
{
    /// <summary>The JSON field holding the source text.</summary>
    public string SourceField { get; init; } = "source";

    /// <summary>The JSON field holding the target text.</summary>
    public string TargetField { get; init; } = "target";

    /// <summary>Put before every source (T5's task prefix, e.g. "summarize: ").</summary>
    public string SourcePrefix { get; init; } = "";

    /// <summary>Longest source in tokens, &lt;/s&gt; included.</summary>
    public int MaxSourceLength { get; init; } = 512;

    /// <summary>Longest target in tokens, &lt;/s&gt; included.</summary>
    public int MaxTargetLength { get; init; } = 128;

    /// <summary>When above 0, batches hold at most this many padded source + target positions (else train.batch_size examples).</summary>
    public int MaxTokens { get; init; }

    /// <summary>Beams of the evaluation's generation (1: greedy).</summary>
    public int NumBeams { get; init; } = 1;

    /// <summary>Most tokens generated per validation example (0: max_target_length).</summary>
    public int MaxNewTokens { get; init; }

    /// <summary>Validation examples generated for ROUGE and exact match at the end (0: all).</summary>
    public int GenerateExamples { get; init; }

    /// <summary>The reader's view of these settings.</summary>
    public Seq2SeqDataOptions DataOptions => new()
    {
        SourceField = SourceField, TargetField = TargetField, SourcePrefix = SourcePrefix, MaxSourceLength = MaxSourceLength, MaxTargetLength = MaxTargetLength,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate(string prefix = "")
    {
        DataOptions.Validate(prefix);
        Setting.AtLeast(prefix + "max_tokens", MaxTokens, 0);
        Setting.AtLeast(prefix + "num_beams", NumBeams, 1);
        Setting.AtLeast(prefix + "max_new_tokens", MaxNewTokens, 0);
        Setting.AtLeast(prefix + "generate_examples", GenerateExamples, 0);
        if (SourcePrefix is null) throw Setting.Error(prefix + "source_prefix", "null", "a string (\"\" for none)");
    }
}
