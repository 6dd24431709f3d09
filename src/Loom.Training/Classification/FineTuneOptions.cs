// Settings of a fine-tuning run, named as Hugging Face's TrainingArguments names them where one
// exists (learning_rate, warmup_ratio, lr_scheduler_type, gradient_accumulation_steps →
// gradient_accumulation, metric_for_best_model, greater_is_better, early stopping patience). The
// defaults are BERT's fine-tuning recipe (Devlin et al. 2019, §A.3: lr 2e-5..5e-5, batch 16/32,
// 2-4 epochs, warmup then linear decay to 0) at the small end.
using Loom.Core.Validation;
using Loom.Training.Precision;

namespace Loom.Training.Classification;

/// <summary>How to fine-tune a sequence classifier.</summary>
public sealed record FineTuneOptions
{
    /// <summary>Passes over the training examples.</summary>
    public int Epochs { get; init; } = 3;
    /// <summary>Optimizer steps to run (0: epochs × batches per epoch ÷ gradient_accumulation). Generative tasks only.</summary>
    public int MaxSteps { get; init; } = 0;
    /// <summary>Validation batches per evaluation (0: the whole validation set, at most 50 batches of windows). Generative tasks only.</summary>
    public int EvalBatches { get; init; } = 0;
    /// <summary>Examples per micro-batch.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Examples per evaluation batch (0: BatchSize).</summary>
    public int EvalBatchSize { get; init; } = 0;
    /// <summary>Micro-batches whose gradients are summed before each update.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Peak learning rate, reached after the warmup.</summary>
    public float LearningRate { get; init; } = 2e-5f;
    public float WeightDecay { get; init; } = 0.01f;
    /// <summary>Fraction of the steps spent warming up linearly from 0 (HF warmup_ratio).</summary>
    public double WarmupRatio { get; init; } = 0.1;
    /// <summary>"linear" (to 0, HF's default) or "cosine" decay after the warmup.</summary>
    public string LrScheduler { get; init; } = "linear";
    public float GradientClip { get; init; } = 1f;
    /// <summary>Tokens per example, specials included (cut by <see cref="Truncation"/>).</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>The shortest max_length accepted (a pair needs [CLS] a [SEP] b [SEP]: below 4 no text token survives).</summary>
    public const int MinimumMaxLength = 4;
    public TruncationPolicy Truncation { get; init; } = TruncationPolicy.Head;
    /// <summary>Length-bucketed (uniform-length) batches; false: random batches padded to their longest.</summary>
    public bool LengthBucketing { get; init; } = true;
    /// <summary>Pad every batch to max_length (the baseline of the efficient-training ladder).</summary>
    public bool PadToMaxLength { get; init; }
    /// <summary>Evaluate every N optimizer steps as well as at each epoch end (0: epoch ends only).</summary>
    public int EvalEvery { get; init; } = 0;
    /// <summary>The validation metric that picks the best checkpoint and drives early stopping (loss, accuracy, f1, f1_macro, mcc, roc_auc, mse, ...).</summary>
    public string MetricForBestModel { get; init; } = "loss";
    /// <summary>Whether a larger metric is better; null: false for loss-like metrics (loss, log_loss, mse, mae, hamming_loss), true otherwise (HF's rule).</summary>
    public bool? GreaterIsBetter { get; init; }
    /// <summary>Stop after this many evaluations without improvement (0: never).</summary>
    public int EarlyStoppingPatience { get; init; } = 0;
    /// <summary>An evaluation improves when it beats the best by more than this.</summary>
    public double EarlyStoppingThreshold { get; init; } = 0;
    public bool ActivationCheckpointing { get; init; }
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Fp32;
    public LossScalerOptions LossScaling { get; init; } = new();
    /// <summary>Checkpoints kept (newest); the best model is kept apart in best/.</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Seed of the batch order and dropout.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Dropout on the embeddings and residual branches during training; null: the model config's (hidden_dropout_prob / resid_pdrop), else 0.</summary>
    public float? HiddenDropout { get; init; }
    /// <summary>Dropout on the attention probabilities during training; null: the model config's (attention_probs_dropout_prob / attn_pdrop), else 0.</summary>
    public float? AttentionDropout { get; init; }
    /// <summary>Rows of the worst-classified table in the report.</summary>
    public int WorstExamples { get; init; } = 20;

    /// <summary>True when a larger <see cref="MetricForBestModel"/> is better.</summary>
    public bool Greater => GreaterIsBetter ?? !IsLossLike(MetricForBestModel);

    /// <summary>Loss-like metrics (smaller is better).</summary>
    public static bool IsLossLike(string metric) => metric is "loss" or "log_loss" or "mse" or "mae" or "hamming_loss" || metric.EndsWith("_loss", StringComparison.Ordinal);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting (<paramref name="prefix"/> + its snake_case name).</summary>
    public void Validate(string prefix = "")
    {
        Setting.AtLeast(prefix + "epochs", Epochs, 1);
        Setting.AtLeast(prefix + "max_steps", MaxSteps, 0);
        Setting.AtLeast(prefix + "eval_batches", EvalBatches, 0);
        Setting.AtLeast(prefix + "batch_size", BatchSize, 1);
        Setting.AtLeast(prefix + "eval_batch_size", EvalBatchSize, 0);
        Setting.AtLeast(prefix + "gradient_accumulation", GradientAccumulation, 1);
        Setting.Positive(prefix + "learning_rate", LearningRate);
        Setting.NonNegative(prefix + "weight_decay", WeightDecay);
        if (!(WarmupRatio >= 0 && WarmupRatio < 1)) throw Setting.Error(prefix + "warmup_ratio", WarmupRatio, "at least 0 and less than 1");
        Setting.OneOf(prefix + "lr_scheduler", LrScheduler, "linear", "cosine");
        Setting.Positive(prefix + "gradient_clip", GradientClip);
        Setting.AtLeast(prefix + "max_length", MaxLength, MinimumMaxLength);
        if (!Enum.IsDefined(Truncation)) throw Setting.Error(prefix + "truncation", Truncation, "head, tail or head_tail");
        Setting.AtLeast(prefix + "eval_every", EvalEvery, 0);
        if (string.IsNullOrWhiteSpace(MetricForBestModel)) throw Setting.Error(prefix + "metric_for_best_model", MetricForBestModel, "a metric name such as loss, accuracy or f1");
        Setting.AtLeast(prefix + "early_stopping_patience", EarlyStoppingPatience, 0);
        Setting.NonNegative(prefix + "early_stopping_threshold", EarlyStoppingThreshold);
        if (!Enum.IsDefined(Precision)) throw Setting.Error(prefix + "precision", Precision, "fp32, bf16 or fp16");
        LossScaling.Validate(prefix + "loss_scaling.");
        Setting.AtLeast(prefix + "keep_checkpoints", KeepCheckpoints, 1);
        Setting.AtLeast(prefix + "worst_examples", WorstExamples, 0);
        if (HiddenDropout is { } h && !(h >= 0 && h < 1)) throw Setting.Error(prefix + "hidden_dropout", h, "at least 0 and less than 1");
        if (AttentionDropout is { } a && !(a >= 0 && a < 1)) throw Setting.Error(prefix + "attention_dropout", a, "at least 0 and less than 1");
    }
}
