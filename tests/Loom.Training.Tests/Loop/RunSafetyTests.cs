using System.Text.Json;
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Training.Loop;

namespace Loom.Training.Tests.Loop;

// Trains tiny models: kept apart from NothingIsLeftAliveAfterARun, which reads the process-wide live-bytes counter.
[Collection(nameof(AllocationCollection))]
public class RunSafetyTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 16, Embedding = 16, Layers = 1, Heads = 2 };
    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();
    private static readonly TrainOptions Options = new()
    {
        BatchSize = 2, SequenceLength = 16, MaxSteps = 12, WarmupSteps = 2, EvalEvery = 4, EvalBatches = 1, Seed = 5,
        CheckpointEvery = 6, KeepCheckpoints = 5,
    };

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "loom-safety-" + Guid.NewGuid().ToString("N"));

    private static TrainResult Train(string dir, TrainOptions options, string? resumeFrom = null)
    {
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(1);
        return LanguageModelTraining.Train(model, Pattern(2000), Pattern(400), options, dir, resumeFrom: resumeFrom);
    }

    private static (string Type, long Step)[] Lines(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("step").GetInt64())).ToArray();

    [Fact]
    public void MetricsHoldEachStepOnceAfterAResumeIntoTheSameRun()
    {
        // Reference: the uninterrupted run's log.
        string straight = TempDir();
        Train(straight, Options);
        var expected = Lines(straight);

        // The same run, then resumed in place from its step-6 checkpoint: the log must read the same.
        string dir = TempDir();
        Train(dir, Options);
        Train(dir, Options, resumeFrom: Path.Combine(dir, "checkpoints", "step_000006"));
        var lines = Lines(dir);
        Assert.Equal(expected, lines);
        var train = lines.Where(l => l.Type == "train").Select(l => l.Step).ToArray();
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), train);
    }

    [Fact]
    public void AFreshRunIntoAnExistingRunRefuses()
    {
        string dir = TempDir();
        Train(dir, Options with { MaxSteps = 4, CheckpointEvery = 0 });
        byte[] metrics = File.ReadAllBytes(Path.Combine(dir, "metrics.jsonl"));
        var ex = Assert.Throws<IOException>(() => Train(dir, Options with { MaxSteps = 4, CheckpointEvery = 0 }));
        Assert.Contains("--resume", ex.Message);
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(dir, "metrics.jsonl")));
        Assert.Single(Directory.GetDirectories(Path.Combine(dir, "checkpoints")));
    }

    [Theory]
    [InlineData("batch_size")]
    [InlineData("sequence_length")]
    [InlineData("seed")]
    [InlineData("gradient_accumulation")]
    public void AResumeThatChangesTheDataOrderOrShapesIsRefused(string field)
    {
        string dir = TempDir();
        Train(dir, Options with { MaxSteps = 6 });
        var changed = field switch
        {
            "batch_size" => Options with { BatchSize = 3 },
            "sequence_length" => Options with { SequenceLength = 8 },
            "seed" => Options with { Seed = 6 },
            _ => Options with { GradientAccumulation = 2 },
        };
        var ex = Assert.Throws<InvalidOperationException>(() => Train(dir, changed, resumeFrom: Path.Combine(dir, "checkpoints", "step_000006")));
        Assert.Contains("train." + field + " was ", ex.Message);
        // Settings that may change on resume still can: more steps, another evaluation cadence.
        var longer = Train(dir, Options with { MaxSteps = 8, EvalEvery = 2 }, resumeFrom: Path.Combine(dir, "checkpoints", "step_000006"));
        Assert.Equal(8, longer.Steps);
    }

    [Fact]
    public void ACheckpointWithNonFiniteWeightsOrMomentsIsRefusedOnResume()
    {
        string dir = TempDir();
        Train(dir, Options with { MaxSteps = 6 });
        string ckpt = Path.Combine(dir, "checkpoints", "step_000006");
        using (var model = Loom.Models.CausalLanguageModels.Load(ckpt))
        {
            model.Parameters.Value(model.Parameters.IndexOf("h.0.attn.c_proj.weight"))[3] = float.NaN;
            model.Save(ckpt);
        }
        var ex = Assert.Throws<InvalidDataException>(() => Train(TempDir(), Options with { MaxSteps = 8 }, resumeFrom: ckpt));
        Assert.Contains("h.0.attn.c_proj.weight", ex.Message);
        Assert.Contains("NaN", ex.Message);
    }

    [Fact]
    public void AbsurdBatchesAreRefusedBeforeAllocation()
    {
        // 100,000 × 1,024 tokens of a 50,257-id vocabulary: terabytes of logits alone. Planned, never allocated.
        var cfg = new Gpt2Config();
        var ex = Assert.Throws<InvalidOperationException>(() => TrainingMemory.EnsureFits(cfg, new TrainOptions { BatchSize = 100_000, SequenceLength = 1024 }));
        Assert.Contains("train.batch_size (now 100,000)", ex.Message);
        Assert.Contains(" GB", ex.Message);
        var (parameters, activations, _) = TrainingMemory.Plan(cfg, new TrainOptions { BatchSize = 100_000, SequenceLength = 1024 });
        Assert.True(activations > 100_000.0 * 1024 * 50257 * 4, $"activations {activations}");   // at least the logits
        // Reference for the parameter figure: GPT-2 124M has 124,439,808 parameters; ×4 copies ×4 bytes (plus alignment padding).
        Assert.InRange(parameters, 124_439_808.0 * 16, 124_439_808.0 * 16 * 1.001);
    }

    [Fact]
    public void AnAbsurdVocabularyIsRefusedBeforeAllocation()
    {
        var cfg = new Gpt2Config { VocabSize = 2_000_000_000, Embedding = 4096, Heads = 32, MaxPositions = 128 };
        var ex = Assert.Throws<InvalidOperationException>(() => TrainingMemory.EnsureFits(cfg, new TrainOptions { BatchSize = 1, SequenceLength = 16 }));
        Assert.Contains("model.vocab_size (now 2,000,000,000)", ex.Message);
    }

    [Fact]
    public void FrozenTensorsGetNoGradientMomentsOrMastersInThePlan()
    {
        // Reference: only h.11.* and ln_f train; the plan must count values for all 124,439,808 parameters and
        // gradient + m + v (+ master under bf16) for the trainable tensors only, as the ParameterSet allocates them.
        var cfg = new Gpt2Config();
        static bool Train(string n) => n.StartsWith("h.11.", StringComparison.Ordinal) || n.StartsWith("ln_f.", StringComparison.Ordinal);
        var fp32 = new TrainOptions { BatchSize = 1, SequenceLength = 16 };
        var (all, _, m) = TrainingMemory.Plan(cfg, fp32);
        var (partial, _, _) = TrainingMemory.Plan(cfg, fp32, Train);
        var (partialBf16, _, _) = TrainingMemory.Plan(cfg, fp32 with { Precision = Loom.Training.Precision.TrainingPrecision.Bf16 }, Train);
        // 12·C² + 13·C per block (+ padding), 2·C for ln_f
        double trained = 0;
        using (var model = new Gpt2Model(new Gpt2Config { Layers = 1, VocabSize = 8, MaxPositions = 8 }, new ModelOptions { Trainable = n => n.StartsWith("h.0.", StringComparison.Ordinal) }))
            trained = (model.Parameters.GradientFloats + 2 * 768) * 4.0;
        Assert.Equal(4 * m.ParameterBytes, all);
        Assert.Equal(m.ParameterBytes + 3 * trained, partial, 1e-6 * partial);
        Assert.Equal(m.ParameterBytes + 4 * trained, partialBf16, 1e-6 * partial);
    }
}
