using Loom.Core.Tensors;
using Loom.Models.Gpt2;
using Loom.Training.Loop;

namespace Loom.Training.Tests.Loop;

// NothingIsLeftAliveAfterARun reads the process-wide live-bytes counter: run apart from tests that allocate.
[Collection(nameof(AllocationCollection))]
public class LanguageModelTrainingTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };

    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();

    private static TrainResult Run(int seed, string dir, int steps = 30)
    {
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(seed);
        var options = new TrainOptions { BatchSize = 4, SequenceLength = 16, MaxSteps = steps, WarmupSteps = 5, EvalEvery = 10, EvalBatches = 2, Seed = seed, LearningRate = 3e-3f, MinLearningRate = 3e-4f };
        return LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), options, dir);
    }

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "loom-train-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void LossFallsAndOutputsAreWritten()
    {
        string dir = TempDir();
        var r = Run(1, dir);
        Assert.Equal(30, r.Steps);
        Assert.True(r.ValidationLoss < r.Evaluations[0].ValidationLoss - 0.5, $"validation loss {r.Evaluations[0].ValidationLoss} → {r.ValidationLoss}");
        Assert.Equal(30 + r.Evaluations.Count, File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Length);
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("<svg", html);
        Assert.Contains("polyline", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("\"BatchSize\": 4", File.ReadAllText(Path.Combine(dir, "options.json")));
    }

    [Fact]
    public void TheSameSeedGivesTheSameLossCurve()
    {
        var a = Run(7, TempDir(), 12);
        var b = Run(7, TempDir(), 12);
        Assert.Equal(a.History.Select(h => h.Loss), b.History.Select(h => h.Loss));
        var c = Run(8, TempDir(), 12);
        Assert.NotEqual(a.History.Select(h => h.Loss), c.History.Select(h => h.Loss));
    }

    [Fact]
    public void ScheduleWarmsUpThenDecaysToTheMinimum()
    {
        Assert.Equal(0.1f, LearningRateSchedule.WarmupCosine(0, 10, 100, 1f, 0.1f), 5);
        Assert.Equal(1f, LearningRateSchedule.WarmupCosine(9, 10, 100, 1f, 0.1f), 5);
        Assert.Equal(0.55f, LearningRateSchedule.WarmupCosine(55, 10, 100, 1f, 0.1f), 5);
        Assert.Equal(0.1f, LearningRateSchedule.WarmupCosine(100, 10, 100, 1f, 0.1f), 5);
    }

    [Fact]
    public void NothingIsLeftAliveAfterARun()
    {
        long before = NativeBuffer.LiveBytes;
        Run(3, TempDir(), 3);
        Assert.Equal(before, NativeBuffer.LiveBytes);
    }

    [Fact]
    public void DivergenceStopsWithAMessage()
    {
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(1);
        model.Parameters.Value(0).Fill(float.NaN);
        var options = new TrainOptions { BatchSize = 2, SequenceLength = 16, MaxSteps = 3, EvalEvery = 100, EvalBatches = 1 };
        var ex = Record.Exception(() => LanguageModelTraining.Train(model, Pattern(1000), Pattern(100), options, TempDir()));
        Assert.True(ex is InvalidOperationException, ex?.ToString());
        Assert.Contains("learning rate", ex!.Message);
    }
}

public class CheckpointResumeTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };
    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();
    private static readonly TrainOptions Options = new()
    {
        BatchSize = 4, SequenceLength = 16, MaxSteps = 20, WarmupSteps = 3, EvalEvery = 5, EvalBatches = 2, Seed = 11,
        LearningRate = 3e-3f, MinLearningRate = 3e-4f, CheckpointEvery = 10, KeepCheckpoints = 5,
    };

    [Fact]
    public void TwentyStraightStepsEqualTenThenResumeForTen()
    {
        string straight = Path.Combine(Path.GetTempPath(), "loom-ckpt-a-" + Guid.NewGuid().ToString("N"));
        TrainResult full;
        using (var model = new Gpt2Model(Tiny))
        {
            model.InitializeWeights(1);
            full = LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), Options, straight);
        }
        string at10 = Path.Combine(straight, "checkpoints", "step_000010");
        Assert.True(Directory.Exists(at10));

        // A fresh process after a kill at step 10: different initial weights, restored from the checkpoint.
        string resumed = Path.Combine(Path.GetTempPath(), "loom-ckpt-b-" + Guid.NewGuid().ToString("N"));
        using var again = new Gpt2Model(Tiny);
        again.InitializeWeights(999);
        var rest = LanguageModelTraining.Train(again, Pattern(4000), Pattern(800), Options, resumed, resumeFrom: at10);
        Assert.Equal(10, rest.History.Count);
        Assert.Equal(full.History.Skip(10).Select(h => h.Step), rest.History.Select(h => h.Step));
        Assert.Equal(full.History.Skip(10).Select(h => h.Loss), rest.History.Select(h => h.Loss)); // bit-identical
        Assert.Equal(full.ValidationLoss, rest.ValidationLoss);
    }

    [Fact]
    public void OnlyCompleteCheckpointsAreListedAndBadOnesAreNamed()
    {
        string dir = Path.Combine(Path.GetTempPath(), "loom-ckpt-c-" + Guid.NewGuid().ToString("N"));
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(1);
        LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), Options with { MaxSteps = 10, CheckpointEvery = 0 }, dir);
        string ckpts = Path.Combine(dir, "checkpoints");
        Directory.CreateDirectory(Path.Combine(ckpts, "step_000099.tmp")); // a crash mid-write
        Assert.Equal([Path.Combine(ckpts, "step_000010")], Loom.Training.Checkpoints.TrainingCheckpoint.List(ckpts));

        string weights = Path.Combine(ckpts, "step_000010", "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        using var other = new Gpt2Model(Tiny);
        var ex = Assert.Throws<InvalidDataException>(() => LanguageModelTraining.Train(other, Pattern(4000), Pattern(800), Options, dir + "-x", resumeFrom: Path.Combine(ckpts, "step_000010")));
        Assert.Contains("model.safetensors", ex.Message);

        using var bigger = new Gpt2Model(Tiny with { Layers = 3 });
        var ex2 = Assert.Throws<InvalidDataException>(() => LanguageModelTraining.Train(bigger, Pattern(4000), Pattern(800), Options, dir + "-y", resumeFrom: Path.Combine(ckpts, "step_000010")));
        Assert.Contains("model.n_layer is 2 in the checkpoint and 3 in the configuration", ex2.Message);
    }
}

public class GradientAccumulationTests
{
    [Fact]
    public void TwoMicroBatchesOfTwoEqualOneBatchOfFour()
    {
        // The gradient of the mean loss over 4 sequences equals the sum of the gradients of
        // (loss over 2)/2 for each half: accumulate two halves and compare with one full batch.
        var cfg = new Gpt2Config { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };
        var rng = new Random(3);
        int[] ids = Enumerable.Range(0, 4 * 16).Select(_ => rng.Next(64)).ToArray();
        int[] tg = Enumerable.Range(0, 4 * 16).Select(_ => rng.Next(64)).ToArray();
        using var model = new Gpt2Model(cfg);
        model.InitializeWeights(2);
        model.Forward(ids, tg, 4, 16);
        model.Parameters.ZeroGradients();
        model.Backward();
        float[] full = model.Parameters.AllGradients.ToArray();
        model.Parameters.ZeroGradients();
        for (int half = 0; half < 2; half++)
        {
            model.Forward(ids.AsSpan(half * 32, 32), tg.AsSpan(half * 32, 32), 2, 16);
            model.Backward(0.5f);
        }
        float[] acc = model.Parameters.AllGradients.ToArray();
        double scale = full.Max(Math.Abs);
        for (int i = 0; i < full.Length; i++) Assert.True(Math.Abs(full[i] - acc[i]) <= 1e-5 * scale + 1e-7, $"grad {i}: {full[i]} vs {acc[i]}");
    }
}

public class EarlyStoppingTests
{
    [Fact]
    public void StopsWhenValidationStopsImproving()
    {
        var cfg = new Gpt2Config { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 1, Heads = 2 };
        using var model = new Gpt2Model(cfg);
        model.InitializeWeights(1);
        // Validation tokens unrelated to training: after a short while the validation loss only rises.
        var rng = new Random(4);
        int[] train = Enumerable.Range(0, 3000).Select(i => i % 5).ToArray();
        int[] val = Enumerable.Range(0, 500).Select(_ => rng.Next(64)).ToArray();
        var options = new TrainOptions { BatchSize = 4, SequenceLength = 16, MaxSteps = 400, WarmupSteps = 2, EvalEvery = 5, EvalBatches = 2,
            LearningRate = 1e-2f, MinLearningRate = 1e-3f, EarlyStoppingPatience = 3 };
        var r = LanguageModelTraining.Train(model, train, val, options, Path.Combine(Path.GetTempPath(), "loom-es-" + Guid.NewGuid().ToString("N")));
        Assert.True(r.StoppedEarly);
        Assert.True(r.Steps < 400, $"ran {r.Steps} steps");
    }
}
