// The quickstart's recipe: its model block (Hugging Face config.json fields, as `loom train`'s model:) and its
// training options (train.*), with the defaults chosen for 3 minutes on 2 cores (docs/PERFORMANCE.md
// "Quickstart"); `loom quickstart --set train.learning_rate=3e-3` overrides any of them, as in `loom train`.
using System.Text.Json;
using Loom.Models.Gpt2;
using Loom.Training.Loop;

namespace Loom.Cli.Commands;

/// <summary>What `loom quickstart` trains and how.</summary>
internal sealed record QuickstartRecipe
{
    /// <summary>The BPE's size: fixed, since issue 11's goal is the loss per token of this 2.44-chars-per-token tokenizer.</summary>
    public const int VocabularySize = 1024;

    /// <summary>A 2.0M-parameter GPT: 4 layers × 192, 6 heads of 32, context 128 (vocab_size is the tokenizer's).</summary>
    public Gpt2Config Model { get; init; } = new() { VocabSize = VocabularySize, MaxPositions = 128, Embedding = 192, Layers = 4, Heads = 6 };

    /// <summary>
    /// The optimisation. The validation measure (eval_batches windows of batch_size × sequence_length, seed 0) is
    /// the one every quickstart figure in docs/PERFORMANCE.md was taken with; the rest was chosen there:
    /// the schedule is fitted to the 3-minute budget (not a step count that ended the run after 131 of 180 s),
    /// decays linearly to zero (Bergsma et al. 2025, "Straight to Zero"), AdamW's β2 is nanoGPT's
    /// shakespeare-char 0.99 (the second moment follows a 1,500-step run's falling gradients), and validation
    /// runs every 250 steps rather than 100 (each costs about 3 steps' time).
    /// </summary>
    public TrainOptions Train { get; init; } = new()
    {
        BatchSize = 16, SequenceLength = 128, MaxSteps = 100_000, TimeBudgetSeconds = 180, FitScheduleToTimeBudget = true,
        LearningRate = 2e-3f, MinLearningRate = 0f, Schedule = "linear", WarmupSteps = 100, WeightDecay = 0.1f, AdamBeta2 = 0.99f,
        GradientClip = 1f, EvalEvery = 250, EvalBatches = 8,
    };

    /// <summary>
    /// The recipe for <paramref name="minutes"/> of training — its schedule fitted to them, or spanning exactly
    /// <paramref name="steps"/> when given (reproducible: the same seed gives the same run on any machine) — with
    /// <paramref name="overrides"/> ("train.learning_rate=3e-3", "model.n_layer=6") applied last.
    /// </summary>
    public static QuickstartRecipe Create(double minutes, int? steps, int seed, IEnumerable<string> overrides)
    {
        var defaults = new QuickstartRecipe();
        defaults = defaults with
        {
            Train = defaults.Train with
            {
                TimeBudgetSeconds = minutes * 60, Seed = seed,
                MaxSteps = steps ?? defaults.Train.MaxSteps, FitScheduleToTimeBudget = steps is null,
            },
        };
        var recipe = ConfigBinding.Bind<QuickstartRecipe>(JsonSerializer.SerializeToNode(defaults, TrainConfig.Json), overrides.Select(TrainCommand.FlowToJson),
            "the quickstart recipe", TrainConfig.Json, "the quickstart recipe is model: and train:",
            "model.n_layer, model.n_embd, model.n_head, model.n_positions, train.learning_rate, train.batch_size, ...; see docs/TRAINING.md");
        if (recipe.Model is null) throw new ArgumentException("model is empty (null); remove the --set that cleared it.");
        if (recipe.Train is null) throw new ArgumentException("train is empty (null); remove the --set that cleared it.");
        if (recipe.Model.VocabSize != VocabularySize)
            throw Loom.Core.Validation.Setting.Error("model.vocab_size", recipe.Model.VocabSize, $"{VocabularySize}, the quickstart tokenizer's size");
        recipe.Model.Validate("model.");
        recipe.Train.Validate("train.");
        if (recipe.Model.MaxPositions < recipe.Train.SequenceLength)
            throw Loom.Core.Validation.Setting.Error("train.sequence_length", recipe.Train.SequenceLength, $"at most model.n_positions ({recipe.Model.MaxPositions})");
        return recipe;
    }
}
