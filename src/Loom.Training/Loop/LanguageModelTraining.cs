// The training loop for causal language models (nanoGPT's train.py, as a library): seeded random
// windows of a token stream, AdamW with a warmup + cosine learning-rate schedule (Loshchilov &
// Hutter 2017, SGDR), global-norm clipping, validation every EvalEvery steps, a JSONL metrics log
// and an HTML report. The whole typed options record is written next to the outputs.
using System.Diagnostics;
using System.Text.Json;
using Loom.Models.Gpt2;
using Loom.Training.Optimizers;
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
    /// <summary>Stops after this long even before MaxSteps (the schedule still assumes MaxSteps).</summary>
    public double? TimeBudgetSeconds { get; init; }
    public float LearningRate { get; init; } = 1e-3f;
    public float MinLearningRate { get; init; } = 1e-4f;
    public int WarmupSteps { get; init; } = 50;
    public float WeightDecay { get; init; } = 0.1f;
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

    public void Validate()
    {
        if (BatchSize < 1 || GradientAccumulation < 1 || SequenceLength < 2 || MaxSteps < 1 || EvalEvery < 1 || EvalBatches < 1 || WarmupSteps < 0)
            throw new ArgumentException($"Invalid training options: {this}.");
        if (LearningRate <= 0 || MinLearningRate < 0 || MinLearningRate > LearningRate)
            throw new ArgumentException($"Learning rates must satisfy 0 ≤ min ≤ max, max > 0; got max {LearningRate}, min {MinLearningRate}.");
    }
}

/// <summary>One optimizer step's figures.</summary>
public sealed record StepMetrics(int Step, float Loss, float LearningRate, float GradientNorm, double TokensPerSecond, double ElapsedSeconds, int MaxSteps);

/// <summary>One validation's figures.</summary>
public sealed record EvalMetrics(int Step, float ValidationLoss);

/// <summary>What a run produced.</summary>
public sealed record TrainResult(int Steps, float LastTrainLoss, float ValidationLoss, IReadOnlyList<StepMetrics> History, IReadOnlyList<EvalMetrics> Evaluations, double Seconds)
{
    /// <summary>True when the run ended because validation loss stopped improving.</summary>
    public bool StoppedEarly { get; init; }
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

/// <summary>Trains a GPT-2-family model on a token stream.</summary>
public static class LanguageModelTraining
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Runs the loop; writes options.json, metrics.jsonl and report.html into <paramref name="outputDirectory"/>.</summary>
    /// <remarks>
    /// With <paramref name="resumeFrom"/> (a checkpoint directory) the weights, optimizer, data order and step
    /// are restored and the run continues exactly as if it had never stopped.
    /// </remarks>
    public static TrainResult Train(Gpt2Model model, int[] trainTokens, int[] validationTokens, TrainOptions options, string outputDirectory,
        IProgress<StepMetrics>? progress = null, CancellationToken ct = default, string? resumeFrom = null)
    {
        options.Validate();
        model.ActivationCheckpointing = options.ActivationCheckpointing;
        Directory.CreateDirectory(outputDirectory);
        File.WriteAllText(Path.Combine(outputDirectory, "options.json"), JsonSerializer.Serialize(new { train = options, model = model.Config }, new JsonSerializerOptions { WriteIndented = true }));
        int B = options.BatchSize, T = options.SequenceLength;
        var train = new TokenBatches(trainTokens, options.Seed);
        var inputs = new int[B * T];
        var targets = new int[B * T];
        using var optimizer = new AdamWOptimizer(model.Parameters, new AdamWOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay });
        var history = new List<StepMetrics>();
        var evals = new List<EvalMetrics>();
        string checkpoints = Path.Combine(outputDirectory, "checkpoints");
        int step = 0;
        float best = float.PositiveInfinity;
        string? bestPath = null;
        if (resumeFrom != null)
        {
            var state = Checkpoints.TrainingCheckpoint.Load(resumeFrom, model, optimizer);
            step = state.Step;
            train.State = state.DataRngState;
            best = state.BestValidationLoss;
        }
        using var log = new StreamWriter(Path.Combine(outputDirectory, "metrics.jsonl"), append: resumeFrom != null) { AutoFlush = true };
        var clock = Stopwatch.StartNew();
        float lastLoss = float.NaN;
        float bestEval = float.PositiveInfinity;
        int sinceImprovement = 0;
        bool stoppedEarly = false;
        void Checkpoint(int completedSteps)
        {
            bool isBest = evals.Count > 0 && evals[^1].ValidationLoss <= best;
            if (isBest) best = evals[^1].ValidationLoss;
            string saved = Checkpoints.TrainingCheckpoint.Save(checkpoints, model, optimizer,
                new Checkpoints.CheckpointState(completedSteps, train.State, optimizer.Step, best, JsonSerializer.Serialize(options)));
            if (isBest) bestPath = saved;
            Checkpoints.TrainingCheckpoint.Prune(checkpoints, options.KeepCheckpoints, bestPath);
        }
        for (; step < options.MaxSteps; step++)
        {
            ct.ThrowIfCancellationRequested();
            if (options.TimeBudgetSeconds is { } budget && clock.Elapsed.TotalSeconds >= budget) break;
            if (step % options.EvalEvery == 0)
            {
                var e = new EvalMetrics(step, Evaluate(model, validationTokens, options));
                if (!float.IsFinite(e.ValidationLoss))
                    throw new InvalidOperationException($"The validation loss is {e.ValidationLoss} at step {step}: the weights hold NaN or infinity. Lower the learning rate (now {options.LearningRate}) or check the initial weights.");
                evals.Add(e);
                log.WriteLine(JsonSerializer.Serialize(new { type = "eval", step = e.Step, val_loss = e.ValidationLoss }, Json));
                if (e.ValidationLoss < bestEval - options.EarlyStoppingMinDelta) { bestEval = e.ValidationLoss; sinceImprovement = 0; }
                else if (options.EarlyStoppingPatience > 0 && ++sinceImprovement >= options.EarlyStoppingPatience)
                {
                    stoppedEarly = true;
                    break;
                }
            }
            var stepClock = Stopwatch.StartNew();
            // Gradient accumulation: each micro-batch adds the gradient of loss/N, so the update
            // sees the mean over all N micro-batches.
            model.Parameters.ZeroGradients();
            float loss = 0f;
            for (int micro = 0; micro < options.GradientAccumulation; micro++)
            {
                train.Next(inputs, targets, B, T);
                float microLoss = model.Forward(inputs, targets, B, T);
                if (!float.IsFinite(microLoss))
                    throw new InvalidOperationException($"The loss became {microLoss} at step {step}; lower the learning rate (now {options.LearningRate}) or check the data. The last checkpoint is kept.");
                model.Backward(1f / options.GradientAccumulation);
                loss += microLoss / options.GradientAccumulation;
            }
            float norm = GradientClipping.ClipGlobalNorm(model.Parameters, options.GradientClip);
            float lr = LearningRateSchedule.WarmupCosine(step, options.WarmupSteps, options.MaxSteps, options.LearningRate, options.MinLearningRate);
            optimizer.Update(lr);
            lastLoss = loss;
            var m = new StepMetrics(step + 1, loss, lr, norm, (double)B * T * options.GradientAccumulation / stepClock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds, options.MaxSteps);
            history.Add(m);
            log.WriteLine(JsonSerializer.Serialize(new { type = "train", step = m.Step, loss = m.Loss, lr = m.LearningRate, grad_norm = m.GradientNorm, tokens_per_s = m.TokensPerSecond }, Json));
            progress?.Report(m);
            if (options.CheckpointEvery > 0 && (step + 1) % options.CheckpointEvery == 0 && step + 1 < options.MaxSteps)
                Checkpoint(step + 1);
        }
        var final = new EvalMetrics(step, Evaluate(model, validationTokens, options));
        evals.Add(final);
        log.WriteLine(JsonSerializer.Serialize(new { type = "eval", step = final.Step, val_loss = final.ValidationLoss }, Json));
        Checkpoint(step);
        var result = new TrainResult(step, lastLoss, final.ValidationLoss, history, evals, clock.Elapsed.TotalSeconds) { StoppedEarly = stoppedEarly };
        TrainingReport.Write(Path.Combine(outputDirectory, "report.html"), result, options, model.Config);
        return result;
    }

    /// <summary>Mean loss over EvalBatches fixed windows of the validation stream (same windows every time).</summary>
    public static float Evaluate(Gpt2Model model, int[] tokens, TrainOptions options)
    {
        int B = options.BatchSize, T = options.SequenceLength;
        var batches = new TokenBatches(tokens, seed: 0);
        var inputs = new int[B * T];
        var targets = new int[B * T];
        double sum = 0;
        for (int i = 0; i < options.EvalBatches; i++)
        {
            batches.Next(inputs, targets, B, T);
            sum += model.Forward(inputs, targets, B, T);
        }
        return (float)(sum / options.EvalBatches);
    }
}
