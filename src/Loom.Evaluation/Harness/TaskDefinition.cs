// One harness task as its YAML file describes it (schema in docs/EVALUATION.md#task-yaml-schema).
// Field names follow lm-evaluation-harness's task YAML where it has one (doc_to_text,
// doc_to_choice, doc_to_target, target_delimiter, fewshot_delimiter, num_fewshot, generation_kwargs.until,
// output_type), so a task written for one reads naturally in the other; templates are the
// {{field}} subset of Jinja (see PromptTemplate), not full Jinja.
namespace Loom.Evaluation.Harness;

/// <summary>A parsed, validated task file.</summary>
public sealed record TaskDefinition
{
    /// <summary>Task name (results are keyed by it).</summary>
    public required string Name { get; init; }

    /// <summary>The YAML file it came from (errors and the results file name it).</summary>
    public string SourcePath { get; init; } = "";

    public TaskOutputType OutputType { get; init; }

    /// <summary>Text put before the few-shot examples and the question (lm-eval's <c>description</c>).</summary>
    public string Description { get; init; } = "";

    /// <summary>Test documents: a JSONL file (one object per line).</summary>
    public required string TestPath { get; init; }

    /// <summary>Few-shot examples are drawn from here (JSONL); null: no few-shot source, --shots must be 0.</summary>
    public string? TrainPath { get; init; }

    /// <summary>When set with no train file: the test file is split into train/test by this fraction (hold-out, seeded, stratified by <see cref="StratifyField"/> when set).</summary>
    public double? HoldoutTestFraction { get; init; }

    /// <summary>Field the hold-out stratifies on (e.g. label).</summary>
    public string? StratifyField { get; init; }

    /// <summary>Field the hold-out groups on: documents sharing it never straddle train and test.</summary>
    public string? GroupField { get; init; }

    public required PromptTemplate DocToText { get; init; }

    /// <summary>Multiple choice: fixed choices, or one template yielding a list field (<c>{{choices}}</c>).</summary>
    public IReadOnlyList<PromptTemplate>? Choices { get; init; }

    /// <summary>A field holding each document's list of choices.</summary>
    public string? ChoicesField { get; init; }

    /// <summary>Multiple choice: the gold index or choice text; generation: the reference answer; log-likelihood: the target text.</summary>
    public required PromptTemplate DocToTarget { get; init; }

    public string TargetDelimiter { get; init; } = " ";
    public string FewshotDelimiter { get; init; } = "\n\n";
    public int NumFewshot { get; init; }

    // generate_until
    public int MaxNewTokens { get; init; } = 256;
    public float Temperature { get; init; }
    public float TopP { get; init; } = 1f;
    public IReadOnlyList<string> Until { get; init; } = ["\n\n"];

    /// <summary>Regex applied to the generated text; group 1 (or the whole match) is the answer. Last match wins when <see cref="AnswerRegexLast"/>.</summary>
    public string? AnswerRegex { get; init; }
    public bool AnswerRegexLast { get; init; }

    /// <summary>Regex applied to the target to get the reference answer (GSM8K: <c>#### (-?[0-9.,]+)</c>).</summary>
    public string? TargetRegex { get; init; }

    /// <summary>Regex replaced by "" in both answers before comparing (GSM8K: <c>,|\$|\.$</c>).</summary>
    public string? IgnoreRegex { get; init; }

    /// <summary>"squad": exact match compares SQuAD-normalised answers; "none" (default): the answers after ignore_regex and trimming, as lm-eval's exact_match.</summary>
    public string Normalize { get; init; } = "none";

    /// <summary>Multiple references: the field holding a list of acceptable answers (SQuAD), best score taken.</summary>
    public string? ReferencesField { get; init; }

    /// <summary>Metrics to report; empty: the output type's defaults.</summary>
    public IReadOnlyList<string> Metrics { get; init; } = [];

    /// <summary>Metrics this task reports (its list or the output type's defaults).</summary>
    public IReadOnlyList<string> EffectiveMetrics => Metrics.Count > 0 ? Metrics : OutputType switch
    {
        TaskOutputType.MultipleChoice => ["acc", "acc_norm"],
        TaskOutputType.GenerateUntil => ["exact_match"],
        _ => ["loglikelihood", "perplexity", "acc"],
    };

    internal static readonly IReadOnlyDictionary<TaskOutputType, string[]> Allowed = new Dictionary<TaskOutputType, string[]>
    {
        [TaskOutputType.MultipleChoice] = ["acc", "acc_norm"],
        [TaskOutputType.GenerateUntil] = ["exact_match", "f1"],
        [TaskOutputType.LogLikelihood] = ["loglikelihood", "perplexity", "acc"],
    };
}
