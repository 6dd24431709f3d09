namespace Loom.Evaluation.Harness;

/// <summary>lm-evaluation-harness's output types.</summary>
public enum TaskOutputType
{
    /// <summary>Score each choice by log-likelihood; acc and acc_norm.</summary>
    MultipleChoice,
    /// <summary>Generate until a stop sequence; extract the answer by regex; exact match / F1.</summary>
    GenerateUntil,
    /// <summary>The log-likelihood of the target given the prompt; mean log-likelihood, perplexity and acc (target is the greedy continuation).</summary>
    LogLikelihood,
}
