// The training loop for causal language models (nanoGPT's train.py, as a library): seeded random
// windows of a token stream, AdamW with a warmup + cosine learning-rate schedule (Loshchilov &
// Hutter 2017, SGDR), global-norm clipping, validation every EvalEvery steps, a JSONL metrics log
// and an HTML report. The whole typed options record is written next to the outputs.
using Loom.Core.IO;
using Loom.Core.Validation;
using System.Text.Json;
using Loom.Models;
using Loom.Training.Optimizers;
using Loom.Training.Precision;
using Loom.Training.Reporting;

namespace Loom.Training.Loop;

/// <summary>Settings of a training run; the defaults suit the quickstart's small GPT.</summary>
public sealed record TrainOptions
{
    public int BatchSize { get; init; } = 16;
    /// <summary>Micro-batches whose gradients are summed before each update (effective batch = BatchSize × this).</summary>
    public int GradientAccumulation { get; init; } = 1;
    public int SequenceLength { get; init; } = 128;
    public int MaxSteps { get; init; } = 2000;
    /// <summary>Stops after this long even before MaxSteps (the schedule still assumes MaxSteps unless FitScheduleToTimeBudget).</summary>
    public double? TimeBudgetSeconds { get; init; }
    /// <summary>
    /// Fits the learning-rate schedule to TimeBudgetSeconds instead of MaxSteps (which becomes a cap): when the warmup
    /// ends, the seconds per step measured over its second half fix the schedule's length so that its decay ends when
    /// the budget does. The warmup's learning rates do not depend on it. Halfway through that schedule it is re-fitted
    /// once from the steps since a quarter of the way (evaluations and checkpoints included), because steps past the
    /// warmup can run slower than the warmup's and the budget would otherwise end the run before the decay does. The
    /// length and any pending re-fit are saved in checkpoints: a run resumed after the re-fit continues bit for bit, one
    /// resumed before it re-fits from its own steps; two fresh runs on machines of different speed get different lengths.
    /// </summary>
    public bool FitScheduleToTimeBudget { get; init; }
    public float LearningRate { get; init; } = 1e-3f;
    public float MinLearningRate { get; init; } = 1e-4f;
    /// <summary>Decay after the warmup: "cosine" (default) to MinLearningRate, or "linear" (HF's default schedule) to MinLearningRate.</summary>
    public string Schedule { get; init; } = "cosine";
    public int WarmupSteps { get; init; } = 50;
    public float WeightDecay { get; init; } = 0.1f;
    /// <summary>AdamW's second-moment decay β2: 0.999 (Kingma &amp; Ba 2015); nanoGPT's short runs use 0.99 (shakespeare-char) or 0.95.</summary>
    public float AdamBeta2 { get; init; } = 0.999f;
    public float GradientClip { get; init; } = 1f;
    public int EvalEvery { get; init; } = 100;
    public int EvalBatches { get; init; } = 8;
    public int Seed { get; init; } = 1337;
    /// <summary>Write a checkpoint every N steps (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 0;
    /// <summary>Newest checkpoints kept (the best by validation loss is kept too).</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Recompute each block's activations in the backward instead of keeping them (less memory, one extra forward).</summary>
    public bool ActivationCheckpointing { get; init; }
    /// <summary>Stop after this many evaluations without improvement (0: never stop early).</summary>
    public int EarlyStoppingPatience { get; init; } = 0;
    /// <summary>An evaluation improves when it beats the best by more than this.</summary>
    public float EarlyStoppingMinDelta { get; init; } = 0f;
    /// <summary>Number format of forward and backward (fp32 master weights either way); see MixedPrecision.</summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Fp32;
    /// <summary>fp16 dynamic loss scaling.</summary>
    public LossScalerOptions LossScaling { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting (<paramref name="prefix"/> + its snake_case name) and its value.</summary>
    /// <param name="prefix">How the user reaches these settings: "train." in a training YAML, "" from code.</param>
    public void Validate(string prefix = "")
    {
        Setting.AtLeast(prefix + "batch_size", BatchSize, 1);
        Setting.AtLeast(prefix + "gradient_accumulation", GradientAccumulation, 1);
        Setting.AtLeast(prefix + "sequence_length", SequenceLength, 2);
        Setting.AtLeast(prefix + "max_steps", MaxSteps, 1);
        if (TimeBudgetSeconds is { } budget) Setting.Positive(prefix + "time_budget_seconds", budget);
        if (FitScheduleToTimeBudget && TimeBudgetSeconds is null)
            throw new ArgumentException($"{prefix}fit_schedule_to_time_budget is true but {prefix}time_budget_seconds is not set: give the budget to fit the schedule to, or set {prefix}fit_schedule_to_time_budget to false.");
        Setting.Positive(prefix + "learning_rate", LearningRate);
        Setting.NonNegative(prefix + "min_learning_rate", MinLearningRate);
        if (MinLearningRate > LearningRate)
            throw Setting.Error(prefix + "min_learning_rate", MinLearningRate, $"at most {prefix}learning_rate ({LearningRate})");
        Setting.AtLeast(prefix + "warmup_steps", WarmupSteps, 0);
        Setting.OneOf(prefix + "schedule", Schedule, "cosine", "linear");
        Setting.NonNegative(prefix + "weight_decay", WeightDecay);
        if (!(AdamBeta2 >= 0 && AdamBeta2 < 1)) throw Setting.Error(prefix + "adam_beta2", AdamBeta2, "at least 0 and less than 1");
        Setting.Positive(prefix + "gradient_clip", GradientClip);
        Setting.AtLeast(prefix + "eval_every", EvalEvery, 1);
        Setting.AtLeast(prefix + "eval_batches", EvalBatches, 1);
        Setting.AtLeast(prefix + "checkpoint_every", CheckpointEvery, 0);
        Setting.AtLeast(prefix + "keep_checkpoints", KeepCheckpoints, 1);
        Setting.AtLeast(prefix + "early_stopping_patience", EarlyStoppingPatience, 0);
        Setting.NonNegative(prefix + "early_stopping_min_delta", EarlyStoppingMinDelta);
        if (!Enum.IsDefined(Precision)) throw Setting.Error(prefix + "precision", Precision, "fp32, bf16 or fp16");
        LossScaling.Validate(prefix + "loss_scaling.");
    }
}

/// <summary>One optimizer step's figures.</summary>
public sealed record StepMetrics(int Step, float Loss, float LearningRate, float GradientNorm, double TokensPerSecond, double ElapsedSeconds, int MaxSteps)
{
    /// <summary>False when fp16 gradients overflowed and the update was skipped.</summary>
    public bool Applied { get; init; } = true;
    /// <summary>The fp16 loss scale after this step (1 otherwise).</summary>
    public float LossScale { get; init; } = 1f;
}

/// <summary>One validation's figures.</summary>
public sealed record EvalMetrics(int Step, float ValidationLoss);

/// <summary>What a run produced.</summary>
public sealed record TrainResult(int Steps, float LastTrainLoss, float ValidationLoss, IReadOnlyList<StepMetrics> History, IReadOnlyList<EvalMetrics> Evaluations, double Seconds)
{
    /// <summary>True when the run ended because validation loss stopped improving.</summary>
    public bool StoppedEarly { get; init; }
    /// <summary>The schedule's length when it was fitted to the time budget (TrainOptions.FitScheduleToTimeBudget), else null.</summary>
    public int? FittedScheduleSteps { get; init; }
    /// <summary>The seconds per step the fit measured (null when not fitted, or restored from a checkpoint).</summary>
    public double? FittedSecondsPerStep { get; init; }
    /// <summary>The length the warmup's fit chose, before the re-fit (null when this run made no fit).</summary>
    public int? WarmupFittedScheduleSteps { get; init; }
    /// <summary>The step after which the schedule was re-fitted (null when this run made no re-fit).</summary>
    public int? RefitStep { get; init; }
    /// <summary>The seconds per step, evaluations and checkpoints included, that the re-fit measured (null without a re-fit).</summary>
    public double? RefitSecondsPerStep { get; init; }
}

/// <summary>Warmup then cosine decay to the minimum.</summary>
public static class LearningRateSchedule
{
    public static float WarmupCosine(int step, int warmup, int total, float max, float min)
    {
        if (step < warmup) return max * (step + 1) / warmup;
        if (step >= total) return min;
        double progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return (float)(min + 0.5 * (max - min) * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>Linear warmup, then linear decay to the minimum at <paramref name="total"/> (HF's get_linear_schedule_with_warmup when min is 0).</summary>
    public static float WarmupLinear(int step, int warmup, int total, float max, float min)
    {
        if (step < warmup) return max * (step + 1) / warmup;
        if (step >= total) return min;
        double progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return (float)(min + (max - min) * (1 - progress));
    }
}

/// <summary>Random (input, target) windows from a token stream; the same seed gives the same batches.</summary>
public sealed class TokenBatches
{
    private readonly int[] _tokens;
    private readonly SplitMix64 _rng;

    public TokenBatches(int[] tokens, int seed)
    {
        _tokens = tokens;
        _rng = new SplitMix64((ulong)seed);
    }

    /// <summary>The sampler's RNG state (saved in checkpoints).</summary>
    public ulong State { get => _rng.State; set => _rng.State = value; }

    /// <summary>Fills B windows of T inputs and their next-token targets.</summary>
    public void Next(Span<int> inputs, Span<int> targets, int batch, int time)
    {
        if (_tokens.Length < time + 1) throw new ArgumentException($"The token stream has {_tokens.Length} tokens; windows of {time} need at least {time + 1}.");
        for (int b = 0; b < batch; b++)
        {
            int start = _rng.Next(_tokens.Length - time);
            _tokens.AsSpan(start, time).CopyTo(inputs.Slice(b * time, time));
            _tokens.AsSpan(start + 1, time).CopyTo(targets.Slice(b * time, time));
        }
    }
}

/// <summary>What one optimizer step did.</summary>
public readonly record struct StepOutcome(float Loss, float LearningRate, float GradientNorm, long Tokens, bool Applied);

/// <summary>
/// One optimizer step — micro-batches through forward and backward, mixed-precision rounding and loss
/// scaling, global-norm clipping, AdamW — with every buffer allocated up front: after the first step
/// of each batch shape it allocates nothing (tested).
/// </summary>
public sealed class TrainingStep : IDisposable
{
    private readonly ILanguageModel _model;
    private readonly IBatchSource _batches;
    private readonly TrainOptions _options;

    private readonly AdamWOptimizer? _optimizer;
    private readonly IDataParallel? _parallel;
    private readonly double[] _lossSum = new double[1];
    private readonly double[] _microWeights;   // (gradient_accumulation) what each micro-batch's mean loss is a mean over

    /// <summary>The optimizer (its moments are saved in checkpoints); a data-parallel step has none (its strategy owns the moments).</summary>
    public AdamWOptimizer Optimizer => _optimizer
        ?? throw new InvalidOperationException("This step is data-parallel: its strategy owns the (possibly sharded) optimizer state; use IDataParallel.GatherOptimizerState.");

    /// <summary>The mixed-precision state.</summary>
    public MixedPrecision Precision { get; }

    /// <summary>The steps the learning-rate schedule spans: TrainOptions.MaxSteps unless the loop fitted it to a time budget.</summary>
    public int ScheduleSteps { get; set; }

    /// <param name="model">The model to train.</param>
    /// <param name="batches">Training batches.</param>
    /// <param name="options">Optimisation settings.</param>
    /// <param name="parallel">
    /// Data parallelism (Loom.Distributed): each rank takes its rows of every micro-batch and the strategy
    /// reduces the gradients and updates the parameters; null trains in this process alone.
    /// </param>
    public TrainingStep(ILanguageModel model, IBatchSource batches, TrainOptions options, IDataParallel? parallel = null)
    {
        options.Validate();
        _model = model;
        _batches = batches;
        _options = options;
        _parallel = parallel;
        if (parallel != null)
        {
            // fp16 loss scaling would need every rank to agree on overflow, bf16 rounding on the shards: not built.
            if (options.Precision != TrainingPrecision.Fp32)
                throw new ArgumentException($"train.precision is {options.Precision.ToString().ToLowerInvariant()}; distributed training supports fp32 only so far. Set train.precision: fp32 or train without --distributed.");
            // The strategies build their own AdamW (sharded moments) with the default betas.
            if (options.AdamBeta2 != new TrainOptions().AdamBeta2)
                throw new ArgumentException($"train.adam_beta2 is {options.AdamBeta2}; distributed training uses AdamW's default 0.999 so far. Remove train.adam_beta2 or train without --distributed.");
            if (options.BatchSize < parallel.Size)
                throw new ArgumentException($"train.batch_size is {options.BatchSize} but {parallel.Size} ranks share every micro-batch by rows; set train.batch_size to at least {parallel.Size} (the global batch stays batch_size × gradient_accumulation).");
        }
        else _optimizer = new AdamWOptimizer(model.Parameters, new AdamWOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay, Beta2 = options.AdamBeta2 });
        Precision = new MixedPrecision(model.Parameters, options.Precision, options.LossScaling);
        _microWeights = new double[options.GradientAccumulation];
        ScheduleSteps = options.MaxSteps;
    }

    /// <summary>Runs optimizer step number <paramref name="step"/> (0-based, for the schedule).</summary>
    public StepOutcome Run(int step)
    {
        // Gradient accumulation: the update must see the gradient of the loss over all N micro-batches
        // together, i.e. the mean over all their targets (tokens; SFT's assistant tokens; DPO's pairs:
        // PaddedBatch.LossWeight). Each micro-batch's loss is a mean over its own w_i of them, so its
        // gradient is scaled by w_i / Σw (1/N when all are equal, the common case: bit-identical to it).
        // Plain 1/N would over-weight the targets of a micro-batch with few of them (padded SFT batches),
        // the accumulation bug Hugging Face fixed with num_items_in_batch (transformers 4.46).
        // Zeroing the gradients is deferred to their first write: the first micro-batch's weight-gradient GEMMs
        // write instead of adding (0.5 GB of zeros and a 0.5 GB read saved per step on GPT-2 124M). The
        // data-parallel strategies read and reduce the raw block as the backward runs: they get it zeroed.
        if (_parallel != null) _model.Parameters.ZeroGradients(pool: null);   // split across the shared pool, as the optimizer's update
        else _model.Parameters.ZeroGradientsOnFirstWrite();
        Precision.BeginStep();
        float loss = 0f;
        long tokens = 0;
        int n = _options.GradientAccumulation;
        var mode = _model as ITrainingMode;   // dropout on for the step's forwards, off again for evaluation and generation
        if (mode != null) mode.IsTraining = true;
        // LoRA's input dropout lives in the projections; each micro-batch draws its own masks from the step.
        var lora = Loom.Models.Adapters.LoraAdapters.Runtime(_model.Parameters);
        if (lora != null) lora.Training = true;
        try
        {
            if (_parallel != null) return RunParallel(step, _parallel, n);
            bool equal = MicroBatchWeights(n, out double total);
            for (int micro = 0; micro < n; micro++)
            {
                if (lora != null) lora.Step = (ulong)step * (ulong)n + (ulong)micro;
                var batch = _batches.Next();
                float microLoss = batch.ForwardOn(_model);
                if (!float.IsFinite(microLoss))
                    throw new InvalidOperationException($"The loss became {microLoss} at step {step}; lower the learning rate (now {_options.LearningRate}) or check the data. The last checkpoint is kept.");
                float share = equal ? 1f / n : (float)(_microWeights[micro] / total);
                _model.Backward(equal ? Precision.LossScale / n : Precision.LossScale * share);
                loss += equal ? microLoss / n : microLoss * share;
                tokens += batch.RealTokens;
            }
        }
        catch
        {
            Precision.EndStep();   // put the fp32 masters back before the error leaves the step
            throw;
        }
        finally
        {
            if (mode != null) mode.IsTraining = false;
            if (lora != null) lora.Training = false;
        }
        float lr = LearningRate(step);
        if (!Precision.EndStep()) return new StepOutcome(loss, lr, float.PositiveInfinity, tokens, Applied: false);
        // Clipping fused into the update (the same numbers as ClipGlobalNorm then Update, one pass fewer).
        float norm = GradientClipping.GlobalNorm(_model.Parameters);
        Optimizer.Update(lr, GradientClipping.Coefficient(norm, _options.GradientClip));
        return new StepOutcome(loss, lr, norm, tokens, Applied: true);
    }

    // The loss weight of each of the step's n micro-batches (PaddedBatch.LossWeight, else its real tokens):
    // the batches are drawn once to count, then the source is put back where it was, so the step draws the
    // very same batches (a batch's arrays may be reused by the next draw, so they cannot be kept). True when
    // all are equal (or n = 1: nothing drawn).
    private bool MicroBatchWeights(int n, out double total)
    {
        total = n;
        if (n == 1) return true;
        var start = _batches.State;
        total = 0;
        bool equal = true;
        for (int micro = 0; micro < n; micro++)
        {
            var b = _batches.Next();
            _microWeights[micro] = b.LossWeight > 0 ? b.LossWeight : b.RealTokens;
            total += _microWeights[micro];
            equal &= _microWeights[micro] == _microWeights[0];
        }
        _batches.State = start;
        if (total <= 0) throw new InvalidOperationException("The step's micro-batches hold no target; check the data.");
        return equal;
    }

    private float LearningRate(int step) => _options.Schedule == "linear"
        ? LearningRateSchedule.WarmupLinear(step, _options.WarmupSteps, ScheduleSteps, _options.LearningRate, _options.MinLearningRate)
        : LearningRateSchedule.WarmupCosine(step, _options.WarmupSteps, ScheduleSteps, _options.LearningRate, _options.MinLearningRate);

    // The data-parallel step. Every rank draws the same global micro-batch and takes rows
    // [r·B/N, (r+1)·B/N). The single-process loss of a micro-batch is the mean over its K target tokens;
    // this rank's model returns the mean over its own k_r of them, so its backward is scaled by k_r/K
    // (and 1/n for accumulation): the sum over ranks of these gradients is exactly the single-process
    // gradient, and the strategy sums them (all-reduce or reduce-scatter), never averages.
    private StepOutcome RunParallel(int step, IDataParallel parallel, int n)
    {
        parallel.BeginStep();
        double localLoss = 0;
        long tokens = 0;
        int size = parallel.Size, rank = parallel.Rank;
        for (int micro = 0; micro < n; micro++)
        {
            var batch = _batches.Next();
            int rowStart = (int)((long)batch.Batch * rank / size), rowEnd = (int)((long)batch.Batch * (rank + 1) / size);
            int T = batch.Time, rows = rowEnd - rowStart;
            long global = CountTargets(batch.Targets), mine = CountTargets(batch.Targets.AsSpan(rowStart * T, rows * T));
            if (global == 0) throw new InvalidOperationException($"Micro-batch {micro} of step {step} has no target tokens; check the data.");
            var ids = batch.Inputs.AsSpan(rowStart * T, rows * T);
            var targets = batch.Targets.AsSpan(rowStart * T, rows * T);
            // Run even when this rank's rows hold no target (padding only): the loss is then 0 and the gradient
            // zero, and every rank must pass the same layer hooks, whose collectives (ZeRO-3's gathers) pair up.
            float microLoss = _model.Forward(ids, targets, rows, T);
            if (!float.IsFinite(microLoss))
                throw new InvalidOperationException($"The loss became {microLoss} at step {step} (rank {rank}); lower the learning rate (now {_options.LearningRate}) or check the data. The last checkpoint is kept.");
            double weight = (double)mine / global / n;
            parallel.BeforeBackward(micro == n - 1);
            _model.Backward((float)weight);
            localLoss += microLoss * weight;
            tokens += batch.RealTokens;
        }
        _lossSum[0] = localLoss;
        parallel.SumOverRanks(_lossSum);
        float lr = LearningRate(step);
        float norm = parallel.ReduceClipAndUpdate(lr, _options.GradientClip);
        return new StepOutcome((float)_lossSum[0], lr, norm, tokens, Applied: true);
    }

    private static long CountTargets(ReadOnlySpan<int> targets)
    {
        long k = 0;
        foreach (int t in targets) if (t != Loom.Models.Losses.CrossEntropyLoss.IgnoreIndex) k++;
        return k;
    }

    public void Dispose()
    {
        _optimizer?.Dispose();
        Precision.Dispose();
    }
}

/// <summary>Trains a language model: causal (GPT-2, Llama) or masked (BERT), whichever targets its batches carry.</summary>
public static class LanguageModelTraining
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Trains on random windows of a token stream; validation uses fixed windows of the validation stream.</summary>
    public static TrainResult Train(ILanguageModel model, int[] trainTokens, int[] validationTokens, TrainOptions options, string outputDirectory,
        IProgress<StepMetrics>? progress = null, CancellationToken ct = default, string? resumeFrom = null, TimeProvider? timeProvider = null)
    {
        options.Validate();
        return Train(model, new WindowBatches(trainTokens, options.BatchSize, options.SequenceLength, options.Seed),
            new WindowBatches(validationTokens, options.BatchSize, options.SequenceLength, seed: 0), options, outputDirectory, progress, ct, resumeFrom, timeProvider: timeProvider);
    }

    /// <summary>Runs the loop; writes options.json, metrics.jsonl and report.html into <paramref name="outputDirectory"/>.</summary>
    /// <remarks>
    /// Every evaluation replays the same <see cref="TrainOptions.EvalBatches"/> validation batches. With
    /// <paramref name="resumeFrom"/> (a checkpoint directory) the weights, optimizer, loss scale, data
    /// position and step are restored and the run continues exactly as if it had never stopped.
    /// <paramref name="timeProvider"/> is the clock of the time budget and its fitted schedule (the system's when null).
    /// </remarks>
    public static TrainResult Train(ILanguageModel model, IBatchSource train, IBatchSource validation, TrainOptions options, string outputDirectory,
        IProgress<StepMetrics>? progress = null, CancellationToken ct = default, string? resumeFrom = null, IReadOnlyDictionary<string, string>? fixedSettings = null,
        IDataParallel? parallel = null, TimeProvider? timeProvider = null)
    {
        options.Validate();
        // Data-parallel: every rank trains, rank 0 alone writes the run directory (metrics, checkpoints, report).
        bool writer = parallel == null || parallel.Rank == 0;
        if (resumeFrom == null && writer) Checkpoints.RunDirectory.EnsureNoRun(outputDirectory);
        var roles = model.Parameters.Specs.ToDictionary(s => s.Name, s => s.IsTrainable, StringComparer.Ordinal);
        TrainingMemory.EnsureFits(model.Configuration, options, trainable: n => !roles.TryGetValue(n, out bool t) || t);
        var runSettings = FixedSettings(options, fixedSettings);
        if (options.ActivationCheckpointing || model.ActivationCheckpointing) model.ActivationCheckpointing = options.ActivationCheckpointing;
        if (writer) Directory.CreateDirectory(outputDirectory);
        using var trainer = new TrainingStep(model, train, options, parallel);
        var optimizer = parallel == null ? trainer.Optimizer : null;
        var validationStart = validation.State;
        var history = new List<StepMetrics>(Math.Min(options.MaxSteps, 1 << 20));
        var evals = new List<EvalMetrics>();
        string checkpoints = Path.Combine(outputDirectory, "checkpoints");
        string metrics = Path.Combine(outputDirectory, "metrics.jsonl");
        int step = 0;
        float best = float.PositiveInfinity;
        string? bestPath = null;
        int savedScheduleSteps = 0, savedRefitStep = 0;
        int horizon = options.MaxSteps;   // the schedule's length: MaxSteps, or fitted to the time budget
        bool fitted = false;
        int refitAt = -1;   // the step after which a fitted schedule is fitted once more (below)
        if (resumeFrom != null)
        {
            var saved = Checkpoints.TrainingCheckpoint.ReadState(resumeFrom);
            Checkpoints.TrainingCheckpoint.EnsureSameFixedSettings(resumeFrom, saved, runSettings);
            if (saved.Step >= options.MaxSteps)
                throw new ArgumentException($"train.max_steps is {options.MaxSteps} but {resumeFrom} is at step {saved.Step}: there is nothing left to train. Raise train.max_steps to continue the run.");
            Checkpoints.CheckpointState state;
            if (parallel == null) state = Checkpoints.TrainingCheckpoint.Load(resumeFrom, model, optimizer!);
            else
            {
                // Checkpoints hold the single-process layout: each rank reads them and keeps its part, so N ranks resume what M wrote.
                var m = new float[model.Parameters.GradientFloats];
                var v = new float[m.Length];
                state = Checkpoints.TrainingCheckpoint.Load(resumeFrom, model, m, v, out int optimizerStep);
                parallel.LoadOptimizerState(m, v, optimizerStep);
            }
            step = state.Step;
            savedScheduleSteps = state.ScheduleSteps;
            savedRefitStep = state.ScheduleRefitStep;
            if (options.FitScheduleToTimeBudget && savedScheduleSteps > 0 && step >= savedScheduleSteps)
                throw new ArgumentException($"{resumeFrom} is at step {step}, the end of its schedule fitted to the time budget ({savedScheduleSteps} steps): there is nothing left to train. Start a new run to train longer.");
            train.State = new BatchSourceState(state.DataRngState, state.DataPosition);
            trainer.Precision.Restore(state.LossScale, state.SkippedSteps);
            best = state.BestValidationLoss;
            // The resumed run replays every step after the checkpoint: drop their old lines.
            if (writer) MetricsLog.TruncateToStep(metrics, step);
            if (model is ITrainingMode mode) mode.DropoutStep = state.DropoutStep;
        }
        if (writer) DurableFile.WriteAllText(Path.Combine(outputDirectory, "options.json"), JsonSerializer.Serialize(new { train = options, model = model.Configuration }, new JsonSerializerOptions { WriteIndented = true }));
        using TextWriter log = writer ? new StreamWriter(metrics, append: resumeFrom != null) { AutoFlush = true } : TextWriter.Null;
        var time = timeProvider ?? TimeProvider.System;
        long clockStart = time.GetTimestamp();
        double Elapsed() => time.GetElapsedTime(clockStart).TotalSeconds;
        float lastLoss = float.NaN;
        float bestEval = float.PositiveInfinity;
        int sinceImprovement = 0;
        bool stoppedEarly = false;
        var statistics = model as IStepStatistics;
        float Validate()
        {
            validation.State = validationStart;
            statistics?.ResetStatistics();
            return Evaluate(model, validation, options.EvalBatches);
        }
        // An objective's own figures (DPO rewards, ...) join the line, prefixed "val_" for evaluations.
        string Line(object fields, string prefix)
        {
            if (statistics == null) return JsonSerializer.Serialize(fields, Json);
            var node = JsonSerializer.SerializeToNode(fields, Json)!.AsObject();
            foreach (var (name, value) in statistics.Statistics()) node[prefix + name] = double.IsFinite(value) ? value : null;
            return node.ToJsonString();
        }
        void Checkpoint(int completedSteps)
        {
            bool isBest = evals.Count > 0 && evals[^1].ValidationLoss <= best;
            if (isBest) best = evals[^1].ValidationLoss;
            var position = train.State;
            // Collective in a data-parallel run: the sharded moments (and ZeRO-3's parameters) are gathered first.
            var gathered = parallel?.GatherOptimizerState();
            parallel?.MaterializeParameters();
            if (!writer) return;
            var checkpointState = new Checkpoints.CheckpointState(completedSteps, position.Rng, parallel?.OptimizerStep ?? optimizer!.Step, best, JsonSerializer.Serialize(options))
            {
                FixedSettings = runSettings,
                DataPosition = position.Position, LossScale = trainer.Precision.LossScale, SkippedSteps = trainer.Precision.SkippedSteps,
                DropoutStep = (model as ITrainingMode)?.DropoutStep ?? 0,
                ScheduleSteps = fitted ? horizon : 0,
                ScheduleRefitStep = refitAt > completedSteps ? refitAt : 0,
            };
            string saved = gathered is { } moments
                ? Checkpoints.TrainingCheckpoint.Save(checkpoints, model, moments.First, moments.Second, parallel!.OptimizerStep, checkpointState)
                : Checkpoints.TrainingCheckpoint.Save(checkpoints, model, optimizer!, checkpointState);
            if (isBest) bestPath = saved;
            Checkpoints.TrainingCheckpoint.Prune(checkpoints, options.KeepCheckpoints, bestPath);
        }
        // The ranks' clocks differ: they stop on a time budget together when any of them is over it.
        bool OverBudget(bool mine)
        {
            if (parallel == null) return mine;
            Span<double> flag = [mine ? 1 : 0];
            parallel.SumOverRanks(flag);
            return flag[0] > 0;
        }
        // CPU seconds (all threads, user + system; Environment.CpuUsage is getrusage, no allocation) spent in
        // training steps by this process, logged with every evaluation as train_cpu_s: the cost axis that stays
        // meaningful on a shared machine, where wall time measures the neighbours (evaluation, checkpoints and
        // a distillation teacher-cache pass are not counted).
        double trainCpu = 0;
        // A schedule fitted to the time budget (TrainOptions.FitScheduleToTimeBudget): the seconds per step are
        // measured from halfway through the warmup (past the first steps' JIT compilation; evaluations left out)
        // to its end, where they fix the schedule's length. The warmup's rates do not depend on the length. A run
        // resumed before the fit measures from its first step instead.
        // Steps past the warmup can be slower than the warmup's (the quickstart of 2026-12-02 14:27 measured 112 ms in
        // its warmup, 122 ms over the whole run: the budget ended it 71 steps before its fitted end, the learning rate
        // not yet decayed), so halfway through the fitted schedule it is fitted once more, from the wall time per step
        // since a quarter of the way (evaluations and checkpoints included: they recur in the rest). From there on the
        // run is a plain fixed-length schedule (the rate steps once at the re-fit, by the ratio of the two lengths'
        // decays). Checkpoints save the length and a pending re-fit's step; a run resumed before the re-fit measures
        // from its first step to that step, one resumed after continues bit for bit.
        int fitAt = -1, measureFrom = -1, refitFrom = -1, warmupFitted = 0;
        double measureStart = 0, refitStart = 0, evalSeconds = 0, evalSecondsAtStart = 0;
        double? secondsPerStep = null, refitSecondsPerStep = null;
        if (options.FitScheduleToTimeBudget)
        {
            if (savedScheduleSteps > 0)
            {
                (horizon, fitted) = (Math.Min(savedScheduleSteps, options.MaxSteps), true);
                if (savedRefitStep > step)
                {
                    (refitFrom, refitAt) = (step, Math.Max(savedRefitStep, step + MinimumStepsBeforeFit / 2));
                    refitStart = Elapsed();
                }
            }
            else
            {
                fitAt = Math.Max(options.WarmupSteps, MinimumStepsBeforeFit);
                measureFrom = fitAt / 2;
                if (step >= measureFrom) (measureFrom, fitAt) = (step, Math.Max(fitAt, step + MinimumStepsBeforeFit / 2));
                if (measureFrom == step) measureStart = Elapsed();
            }
        }
        trainer.ScheduleSteps = horizon;
        for (; step < horizon; step++)
        {
            ct.ThrowIfCancellationRequested();
            if (options.TimeBudgetSeconds is { } budget && OverBudget(Elapsed() >= budget)) break;
            if (step % options.EvalEvery == 0)
            {
                double evalStarted = Elapsed();
                var e = new EvalMetrics(step, Validate());
                evalSeconds += Elapsed() - evalStarted;
                if (!float.IsFinite(e.ValidationLoss))
                    throw new InvalidOperationException($"The validation loss is {e.ValidationLoss} at step {step}: the weights hold NaN or infinity. Lower the learning rate (now {options.LearningRate}) or check the initial weights.");
                evals.Add(e);
                log.WriteLine(Line(new { type = "eval", step = e.Step, val_loss = e.ValidationLoss, train_cpu_s = Math.Round(trainCpu, 3) }, "val_"));
                if (e.ValidationLoss < bestEval - options.EarlyStoppingMinDelta) { bestEval = e.ValidationLoss; sinceImprovement = 0; }
                else if (options.EarlyStoppingPatience > 0 && ++sinceImprovement >= options.EarlyStoppingPatience)
                {
                    stoppedEarly = true;
                    break;
                }
            }
            long started = time.GetTimestamp();
            statistics?.ResetStatistics();
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var outcome = trainer.Run(step);
            trainCpu += (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds;
            double seconds = time.GetElapsedTime(started).TotalSeconds;
            lastLoss = outcome.Loss;
            var m = new StepMetrics(step + 1, outcome.Loss, outcome.LearningRate, outcome.GradientNorm, outcome.Tokens / seconds, Elapsed(), horizon)
            {
                Applied = outcome.Applied, LossScale = trainer.Precision.LossScale,
            };
            history.Add(m);
            log.WriteLine(outcome.Applied
                ? Line(new { type = "train", step = m.Step, loss = m.Loss, lr = m.LearningRate, grad_norm = m.GradientNorm, tokens_per_s = m.TokensPerSecond, loss_scale = m.LossScale }, "")
                : JsonSerializer.Serialize(new { type = "skip", step = m.Step, loss = m.Loss, reason = "fp16 gradient overflow", loss_scale = m.LossScale }, Json));
            progress?.Report(m);
            if (step + 1 == measureFrom) (measureStart, evalSecondsAtStart) = (Elapsed(), evalSeconds);
            if (step + 1 == fitAt)
            {
                secondsPerStep = (Elapsed() - measureStart - (evalSeconds - evalSecondsAtStart)) / (fitAt - measureFrom);
                horizon = FittedScheduleSteps(step + 1, Elapsed(), secondsPerStep.Value, options);
                if (parallel != null)
                {
                    // Every rank must take the same schedule and stop at the same step: rank 0's fit decides.
                    Span<double> h = [parallel.Rank == 0 ? horizon : 0];
                    parallel.SumOverRanks(h);
                    horizon = (int)h[0];
                }
                trainer.ScheduleSteps = horizon;
                fitted = true;
                warmupFitted = horizon;
                (refitFrom, refitAt) = RefitWindow(step + 1, horizon);
            }
            if (step + 1 == refitFrom) refitStart = Elapsed();
            if (step + 1 == refitAt && refitAt < horizon)
            {
                refitSecondsPerStep = (Elapsed() - refitStart) / (refitAt - refitFrom);
                horizon = RefittedScheduleSteps(step + 1, Elapsed(), refitSecondsPerStep.Value, options);
                if (parallel != null)
                {
                    Span<double> h = [parallel.Rank == 0 ? horizon : 0];
                    parallel.SumOverRanks(h);
                    horizon = (int)h[0];
                }
                trainer.ScheduleSteps = horizon;
            }
            if (options.CheckpointEvery > 0 && (step + 1) % options.CheckpointEvery == 0 && step + 1 < horizon)
                Checkpoint(step + 1);
        }
        var final = new EvalMetrics(step, Validate());
        evals.Add(final);
        log.WriteLine(Line(new { type = "eval", step = final.Step, val_loss = final.ValidationLoss, train_cpu_s = Math.Round(trainCpu, 3) }, "val_"));
        Checkpoint(step);
        var result = new TrainResult(step, lastLoss, final.ValidationLoss, history, evals, Elapsed())
        {
            StoppedEarly = stoppedEarly, FittedScheduleSteps = fitted ? horizon : null, FittedSecondsPerStep = secondsPerStep,
            WarmupFittedScheduleSteps = warmupFitted > 0 ? warmupFitted : null,
            RefitStep = refitSecondsPerStep is null ? null : refitAt, RefitSecondsPerStep = refitSecondsPerStep,
        };
        if (writer) TrainingReport.Write(Path.Combine(outputDirectory, "report.html"), result, options, model.Configuration, statistics != null ? metrics : null);
        return result;
    }

    /// <summary>Fewest steps before a schedule is fitted to the time budget (half of them measured).</summary>
    public const int MinimumStepsBeforeFit = 8;

    /// <summary>
    /// The schedule length that ends a run when its time budget does, 2% kept back for the final evaluation and
    /// checkpoint: the <paramref name="completed"/> steps plus what the rest of the budget buys at
    /// <paramref name="secondsPerStep"/>, each step also carrying its share of the evaluations (EvalBatches forward
    /// passes every EvalEvery steps; a forward pass costs about a third of a step's forward and backward, 2N against
    /// 6N FLOPs per token: Kaplan et al. 2020, §2.1). At least <paramref name="completed"/>, at most MaxSteps.
    /// </summary>
    public static int FittedScheduleSteps(int completed, double elapsedSeconds, double secondsPerStep, TrainOptions options)
    {
        double budget = options.TimeBudgetSeconds ?? throw new ArgumentException("train.time_budget_seconds is not set: there is no budget to fit the schedule to.");
        double perStep = secondsPerStep * (1 + options.EvalBatches / (3.0 * options.GradientAccumulation * options.EvalEvery));
        double remaining = Math.Max(0, 0.98 * budget - elapsedSeconds);
        double more = perStep > 0 ? Math.Floor(remaining / perStep) : double.PositiveInfinity;
        return (int)Math.Clamp(completed + more, completed, options.MaxSteps);
    }

    /// <summary>
    /// Where the schedule fitted at step <paramref name="fittedAt"/> to <paramref name="horizon"/> steps is re-fitted:
    /// measured from a quarter of the way from the fit to the end, re-fitted halfway. (−1, −1) when the window would hold
    /// fewer than half of <see cref="MinimumStepsBeforeFit"/> steps.
    /// </summary>
    public static (int From, int At) RefitWindow(int fittedAt, int horizon)
    {
        int rest = horizon - fittedAt;
        int from = fittedAt + rest / 4, at = fittedAt + rest / 2;
        return at - from >= MinimumStepsBeforeFit / 2 ? (from, at) : (-1, -1);
    }

    /// <summary>
    /// The re-fitted schedule length: the <paramref name="completed"/> steps plus what 98% of the budget, less
    /// <paramref name="elapsedSeconds"/>, buys at <paramref name="secondsPerStep"/> — here measured with the evaluations
    /// and checkpoints of its window, so none is added. At least <paramref name="completed"/>, at most MaxSteps.
    /// </summary>
    public static int RefittedScheduleSteps(int completed, double elapsedSeconds, double secondsPerStep, TrainOptions options)
    {
        double budget = options.TimeBudgetSeconds ?? throw new ArgumentException("train.time_budget_seconds is not set: there is no budget to fit the schedule to.");
        double remaining = Math.Max(0, 0.98 * budget - elapsedSeconds);
        double more = secondsPerStep > 0 ? Math.Floor(remaining / secondsPerStep) : double.PositiveInfinity;
        return (int)Math.Clamp(completed + more, completed, options.MaxSteps);
    }

    /// <summary>
    /// The settings a resume must not change: those of <paramref name="options"/> that decide the batches
    /// and their shapes, plus the caller's (data files, tokenizer, batching, ...).
    /// </summary>
    public static Dictionary<string, string> FixedSettings(TrainOptions options, IReadOnlyDictionary<string, string>? more = null)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["train.batch_size"] = options.BatchSize.ToString(inv),
            ["train.sequence_length"] = options.SequenceLength.ToString(inv),
            ["train.gradient_accumulation"] = options.GradientAccumulation.ToString(inv),
            ["train.seed"] = options.Seed.ToString(inv),
        };
        if (more != null) foreach (var (k, v) in more) d[k] = v;
        return d;
    }

    /// <summary>Mean loss over EvalBatches fixed windows of the validation stream (same windows every time).</summary>
    public static float Evaluate(ILanguageModel model, int[] tokens, TrainOptions options) =>
        Evaluate(model, new WindowBatches(tokens, options.BatchSize, options.SequenceLength, seed: 0), options.EvalBatches);

    /// <summary>Token-weighted mean loss over the next <paramref name="batches"/> batches of <paramref name="source"/>.</summary>
    public static float Evaluate(ILanguageModel model, IBatchSource source, int batches)
    {
        double sum = 0;
        long tokens = 0;
        for (int i = 0; i < batches; i++)
        {
            var b = source.Next();
            int weight = b.LossWeight > 0 ? b.LossWeight : b.RealTokens;
            sum += (double)b.ForwardOn(model) * weight;
            tokens += weight;
        }
        return (float)(sum / Math.Max(1, tokens));
    }
}
