using Loom.Models.Gpt2;
using Loom.Training.Loop;

namespace Loom.Training.Tests.Loop;

// TrainOptions.FitScheduleToTimeBudget on a clock the test drives: every step "takes" a fixed time, so the fitted
// length follows from the documented rule alone, whatever machine runs the test.
public class TimeFittedScheduleTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };
    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();
    private static string TempDir() => Path.Combine(Path.GetTempPath(), "loom-fit-" + Guid.NewGuid().ToString("N"));

    private static readonly TrainOptions Options = new()
    {
        BatchSize = 4, SequenceLength = 16, MaxSteps = 1000, TimeBudgetSeconds = 10, FitScheduleToTimeBudget = true,
        WarmupSteps = 10, Schedule = "linear", LearningRate = 3e-3f, MinLearningRate = 0f, AdamBeta2 = 0.99f,
        EvalEvery = 20, EvalBatches = 2, Seed = 5, CheckpointEvery = 40, KeepCheckpoints = 5,
    };

    /// <summary>Moves only when a step reports (plus 1 µs per reading, so nothing takes zero time).</summary>
    private sealed class StepClock : TimeProvider
    {
        private long _micros;
        public override long TimestampFrequency => 1_000_000;
        public override long GetTimestamp() => ++_micros;
        public void Advance(double seconds) => _micros += (long)Math.Round(seconds * 1e6);
    }

    private sealed class EachStep(Action<StepMetrics> act) : IProgress<StepMetrics>
    {
        public void Report(StepMetrics value) => act(value);
    }

    private static TrainResult Run(string dir, double secondsPerStep, int initSeed = 1, string? resumeFrom = null)
    {
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(initSeed);
        var clock = new StepClock();
        return LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), Options, dir,
            new EachStep(_ => clock.Advance(secondsPerStep)), resumeFrom: resumeFrom, timeProvider: clock);
    }

    [Fact]
    public void TheDecayEndsWhenTheBudgetDoesAndTheWarmupIsUntouched()
    {
        var r = Run(TempDir(), secondsPerStep: 0.1);
        // Measured over warmup steps 5..10: 0.1 s per step, plus the evaluations' share, 2 batches every 20
        // steps at a third of a step each: 0.1 × (1 + 2/60). At step 10 the clock reads 1.0 s of the budget's
        // 98% (9.8 s): 8.8 / 0.10333 = 85.2 more steps, 95 in all.
        Assert.Equal(95, r.WarmupFittedScheduleSteps);
        Assert.Equal(0.1, r.FittedSecondsPerStep!.Value, 4);
        // Re-fitted after step 10 + 85/2 = 52 from steps 31..52: 0.1 s each (this clock charges the evaluation
        // nothing), 5.2 s gone, (9.8 − 5.2) / 0.1 = 46 more less the clock's microseconds: 97 or 98.
        Assert.Equal(52, r.RefitStep);
        Assert.Equal(0.1, r.RefitSecondsPerStep!.Value, 4);
        int length = r.FittedScheduleSteps!.Value;
        Assert.InRange(length, 97, 98);
        Assert.Equal(length, r.Steps);                  // the schedule ended the run, inside the budget
        Assert.True(r.History[^1].ElapsedSeconds < 10, r.History[^1].ElapsedSeconds.ToString());
        // Every step's rate is that of a fixed-length schedule: 95 steps up to the re-fit (the warmup's rates never
        // depend on the length), the re-fitted length after it.
        for (int i = 0; i < r.History.Count; i++)
            Assert.Equal(LearningRateSchedule.WarmupLinear(i, 10, i < 52 ? 95 : length, 3e-3f, 0f), r.History[i].LearningRate);
        Assert.All(r.History.Skip(10).Take(42), h => Assert.Equal(95, h.MaxSteps));
        Assert.All(r.History.Skip(52), h => Assert.Equal(length, h.MaxSteps));
    }

    [Fact]
    public void AResumedRunKeepsTheFittedLengthAndContinuesBitForBit()
    {
        string straight = TempDir();
        var full = Run(straight, secondsPerStep: 0.1);
        int length = full.FittedScheduleSteps!.Value;
        string at80 = Path.Combine(straight, "checkpoints", "step_000080");
        Assert.True(Directory.Exists(at80));
        // Past the re-fit (step 52): a slower clock would fit a shorter schedule (0.15 s per step from the start:
        // 63 steps); the checkpoint's length must win.
        var rest = Run(TempDir(), secondsPerStep: 0.15, initSeed: 999, resumeFrom: at80);
        Assert.Equal(length, rest.FittedScheduleSteps);
        Assert.Null(rest.FittedSecondsPerStep);
        Assert.Null(rest.RefitStep);
        Assert.Equal(full.History.Skip(80).Select(h => h.Step), rest.History.Select(h => h.Step));
        Assert.Equal(full.History.Skip(80).Select(h => h.Loss), rest.History.Select(h => h.Loss));   // bit-identical
        Assert.Equal(full.History.Skip(80).Select(h => h.LearningRate), rest.History.Select(h => h.LearningRate));
        Assert.Equal(full.ValidationLoss, rest.ValidationLoss);

        // The final checkpoint is the end of the fitted schedule: resuming it says so.
        string end = Path.Combine(straight, "checkpoints", $"step_{length:D6}");
        var ex = Assert.Throws<ArgumentException>(() => Run(TempDir(), 0.1, resumeFrom: end));
        Assert.Contains($"fitted to the time budget ({length} steps)", ex.Message);
    }

    [Fact]
    public void ARunResumedBeforeTheRefitKeepsTheFittedLengthUpToItThenRefitsFromItsOwnSteps()
    {
        string straight = TempDir();
        var full = Run(straight, secondsPerStep: 0.1);
        // Step 40 is past the warmup's fit (95 steps) and before the re-fit after step 52, which the checkpoint keeps pending.
        var rest = Run(TempDir(), secondsPerStep: 0.15, initSeed: 999, resumeFrom: Path.Combine(straight, "checkpoints", "step_000040"));
        Assert.Equal(52, rest.RefitStep);
        Assert.Null(rest.WarmupFittedScheduleSteps);
        Assert.Equal(full.History.Skip(40).Take(12).Select(h => h.Loss), rest.History.Take(12).Select(h => h.Loss));   // bit-identical up to the re-fit
        Assert.All(rest.History.Take(12), h => Assert.Equal(95, h.MaxSteps));
        // Its own steps 40..52 at 0.15 s on the resumed run's budget (restarted at the resume): 1.8 s gone,
        // (9.8 − 1.8) / 0.15 = 53.3 more: 105.
        Assert.Equal(0.15, rest.RefitSecondsPerStep!.Value, 4);
        Assert.Equal(105, rest.FittedScheduleSteps);
        Assert.Equal(105, rest.Steps);
    }

    [Fact]
    public void ARunThatSlowsDownAfterTheWarmupIsRefittedAndItsDecayEndsInsideTheBudget()
    {
        // The quickstart's case: the warmup measured 0.1 s per step, the later steps take 0.12 s. Fitted at the
        // warmup's rate alone the schedule (95 steps) outlasts the budget: the budget ends the run at step 85 of 95,
        // the learning rate still at 10/85 of its peak. Re-fitted after step 52 from steps 31..52 (0.12 s each;
        // 1.0 + 42 × 0.12 = 6.04 s gone): (9.8 − 6.04) / 0.12 = 31.3 more, 83 in all.
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(1);
        var clock = new StepClock();
        var r = LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), Options with { CheckpointEvery = 0 }, TempDir(),
            new EachStep(s => clock.Advance(s.Step <= 10 ? 0.1 : 0.12)), timeProvider: clock);
        Assert.Equal(95, r.WarmupFittedScheduleSteps);
        Assert.Equal(52, r.RefitStep);
        Assert.Equal(0.12, r.RefitSecondsPerStep!.Value, 4);
        Assert.Equal(83, r.FittedScheduleSteps);
        Assert.Equal(83, r.Steps);                                  // the schedule, not the budget, ended the run
        Assert.True(r.History[^1].ElapsedSeconds < 10, r.History[^1].ElapsedSeconds.ToString());
        Assert.Equal(LearningRateSchedule.WarmupLinear(82, 10, 83, 3e-3f, 0f), r.History[^1].LearningRate);   // the decay's last step
    }

    [Fact]
    public void TheRefitWindowIsAQuarterToHalfOfTheFittedSchedule()
    {
        Assert.Equal((461, 823), LanguageModelTraining.RefitWindow(100, 1546));   // the quickstart's fit of 2026-12-02 14:27
        Assert.Equal((31, 52), LanguageModelTraining.RefitWindow(10, 95));
        Assert.Equal((-1, -1), LanguageModelTraining.RefitWindow(10, 20));        // steps 12..15, 3 measured: too few, no re-fit
        var o = Options with { TimeBudgetSeconds = 100, MaxSteps = 500 };
        Assert.Equal(52 + 80, LanguageModelTraining.RefittedScheduleSteps(52, 50, 0.6, o));   // (98 − 50) / 0.6 = 80: no evaluation share added
        Assert.Equal(52, LanguageModelTraining.RefittedScheduleSteps(52, 120, 0.6, o));       // already over budget
        Assert.Equal(500, LanguageModelTraining.RefittedScheduleSteps(52, 1, 0.001, o));      // capped by MaxSteps
    }

    [Fact]
    public void TheBudgetStillStopsARunThatSlowsDown()
    {
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(1);
        var clock = new StepClock();
        // 0.1 s per step while the fit measures, then 0.3 s: the budget ends the run before the 95 fitted steps,
        // and before the re-fit after step 52 could shorten them.
        var r = LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), Options with { CheckpointEvery = 0 }, TempDir(),
            new EachStep(s => clock.Advance(s.Step <= 10 ? 0.1 : 0.3)), timeProvider: clock);
        Assert.Equal(95, r.FittedScheduleSteps);
        Assert.Equal(10 + 30, r.Steps);   // 1.0 s + 30 × 0.3 s reaches the 10 s budget
        Assert.Null(r.RefitStep);
    }

    [Fact]
    public void TheFittedLengthIsClampedBetweenTheStepsDoneAndMaxSteps()
    {
        // Evaluations of 3 batches every 4 steps: each step costs 1 + 3/12 = 1.25 times its measured time.
        var o = Options with { TimeBudgetSeconds = 100, MaxSteps = 500, EvalBatches = 3, EvalEvery = 4 };
        Assert.Equal(500, LanguageModelTraining.FittedScheduleSteps(10, 1, 0.01, o));      // (98 − 1) / 0.0125 = 7,760 would fit
        Assert.Equal(10, LanguageModelTraining.FittedScheduleSteps(10, 120, 0.01, o));     // already over budget
        Assert.Equal(10 + 70, LanguageModelTraining.FittedScheduleSteps(10, 10, 1, o));    // (98 − 10) / 1.25 = 70.4
    }

    [Fact]
    public void SettingsAreChecked()
    {
        var ex = Assert.Throws<ArgumentException>(() => (Options with { TimeBudgetSeconds = null }).Validate("train."));
        Assert.Contains("train.fit_schedule_to_time_budget", ex.Message);
        Assert.Contains("train.time_budget_seconds", ex.Message);
        var beta = Assert.Throws<ArgumentException>(() => (Options with { AdamBeta2 = 1f }).Validate("train."));
        Assert.Contains("train.adam_beta2 is 1", beta.Message);
    }

    [Fact]
    public void AdamBeta2ReachesTheOptimizer()
    {
        // Adam's first update is g/|g| whatever β2 is (bias correction); from the second on, β2 shows in the loss.
        TrainResult With(float beta2)
        {
            using var model = new Gpt2Model(Tiny);
            model.InitializeWeights(1);
            var o = new TrainOptions { BatchSize = 4, SequenceLength = 16, MaxSteps = 3, WarmupSteps = 1, EvalEvery = 100, EvalBatches = 1, AdamBeta2 = beta2 };
            return LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), o, TempDir());
        }
        var a = With(0.999f);
        var b = With(0.5f);
        Assert.NotEqual(a.History[2].Loss, b.History[2].Loss);
    }
}
