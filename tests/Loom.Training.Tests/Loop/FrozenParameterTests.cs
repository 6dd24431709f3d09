// Training with frozen parameters: a step never changes a frozen tensor (fp32 and 16-bit, where the
// masters exist only for trainable tensors), moves the trainable ones exactly as the fully trainable
// model's step moves them, keeps optimizer state only for them, and resumes bit-identically.
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Training.Loop;
using Loom.Training.Optimizers;
using Loom.Training.Precision;

namespace Loom.Training.Tests.Loop;

[Collection(nameof(AllocationCollection))]
public class FrozenParameterTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };
    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();

    // The second block and the final norm train; embeddings (and so the tied head), the first block are frozen.
    private static bool Train(string name) => name.StartsWith("h.1.", StringComparison.Ordinal) || name.StartsWith("ln_f.", StringComparison.Ordinal);

    public static TheoryData<TrainingPrecision> Precisions => new() { TrainingPrecision.Fp32, TrainingPrecision.Bf16, TrainingPrecision.Fp16 };

    [Theory]
    [MemberData(nameof(Precisions))]
    public void FrozenTensorsNeverChangeAndTrainableOnesMoveAsInTheFullModel(TrainingPrecision precision)
    {
        // No clipping, so the global norm (taken over trainable gradients only) does not differ between the two runs.
        var options = new TrainOptions { BatchSize = 2, SequenceLength = 16, MaxSteps = 10, WarmupSteps = 1, LearningRate = 1e-2f, MinLearningRate = 1e-3f, GradientClip = 1e9f, Precision = precision };
        using var partial = new Gpt2Model(Tiny, new ModelOptions { Trainable = Train });
        using var full = new Gpt2Model(Tiny);
        partial.InitializeWeights(2);
        full.InitializeWeights(2);
        float[] before = partial.Parameters.AllValues.ToArray();
        using var a = new TrainingStep(partial, new WindowBatches(Pattern(3000), 2, 16, seed: 4), options);
        using var b = new TrainingStep(full, new WindowBatches(Pattern(3000), 2, 16, seed: 4), options);
        Assert.Equal(partial.Parameters.GradientFloats, a.Optimizer.FirstMoment.Length);
        Assert.Equal(partial.Parameters.Specs.Where(s => Train(s.Name)).Sum(s => (s.Count + 15) & ~15L), a.Optimizer.FirstMoment.Length);
        Assert.Equal(precision == TrainingPrecision.Fp32 ? 0 : partial.Parameters.GradientFloats * sizeof(float), a.Precision.ExtraBytes);
        var outcome = a.Run(0);
        b.Run(0);
        Assert.True(outcome.Applied);
        var p = partial.Parameters;
        for (int i = 0; i < p.Specs.Count; i++)
        {
            var s = p.Specs[i];
            var now = p.Value(i).ToArray();
            var was = before.AsSpan(checked((int)s.Offset), now.Length).ToArray();
            if (!Train(s.Name)) Assert.Equal(was, now);   // bit for bit
            else if (s.Name.StartsWith("h.1.", StringComparison.Ordinal) && s.Shape.Length == 2) Assert.NotEqual(was, now);
        }
        // Gradients of the trainable tensors equal the full model's (the first micro-step only: the
        // full model's frozen-here tensors moved, so later steps legitimately differ).
        if (precision == TrainingPrecision.Fp32)
            for (int i = 0; i < p.Specs.Count; i++)
                if (Train(p.Specs[i].Name)) Assert.Equal(full.Parameters.Value(i).ToArray(), p.Value(i).ToArray());
    }

    [Fact]
    public void AModelWithNothingTrainableIsRefusedByTheTrainer()
    {
        using var model = new Gpt2Model(Tiny, ModelOptions.Inference);
        var e = Assert.Throws<InvalidOperationException>(() => new TrainingStep(model, new WindowBatches(Pattern(3000), 2, 16, seed: 4), new TrainOptions { BatchSize = 2, SequenceLength = 16 }));
        Assert.Contains("frozen", e.Message);
    }

    [Fact]
    public void APartlyFrozenRunResumesBitIdenticallyAndRefusesOtherRoles()
    {
        var options = new TrainOptions { BatchSize = 4, SequenceLength = 16, MaxSteps = 8, WarmupSteps = 2, EvalEvery = 4, EvalBatches = 1, Seed = 3, LearningRate = 3e-3f, MinLearningRate = 3e-4f, CheckpointEvery = 4, KeepCheckpoints = 5 };
        string straight = Path.Combine(Path.GetTempPath(), "loom-frozen-a-" + Guid.NewGuid().ToString("N"));
        TrainResult full;
        using (var model = new Gpt2Model(Tiny, new ModelOptions { Trainable = Train }))
        {
            model.InitializeWeights(1);
            full = LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), options, straight);
        }
        string at4 = Path.Combine(straight, "checkpoints", "step_000004");
        using (var again = new Gpt2Model(Tiny, new ModelOptions { Trainable = Train }))
        {
            var rest = LanguageModelTraining.Train(again, Pattern(4000), Pattern(800), options, straight + "-b", resumeFrom: at4);
            Assert.Equal(full.History.Skip(4).Select(h => h.Loss), rest.History.Select(h => h.Loss));
        }
        using var allTrainable = new Gpt2Model(Tiny);
        var e = Assert.Throws<InvalidDataException>(() => LanguageModelTraining.Train(allTrainable, Pattern(4000), Pattern(800), options, straight + "-c", resumeFrom: at4));
        Assert.Contains("trainable", e.Message);
    }

    [Fact]
    public void ANonFiniteMomentOfATrainableTensorIsRefusedByNameOnResume()
    {
        // The moments hold the trainable tensors only: element 0 of the second trainable tensor's
        // moment is at its GradientOffset, not at its offset in the value block.
        var options = new TrainOptions { BatchSize = 2, SequenceLength = 16, MaxSteps = 4, WarmupSteps = 1, EvalEvery = 4, EvalBatches = 1, Seed = 3, CheckpointEvery = 4 };
        string dir = Path.Combine(Path.GetTempPath(), "loom-frozen-nan-" + Guid.NewGuid().ToString("N"));
        string victim;
        using (var model = new Gpt2Model(Tiny, new ModelOptions { Trainable = Train }))
        {
            model.InitializeWeights(1);
            LanguageModelTraining.Train(model, Pattern(4000), Pattern(800), options, dir);
            var spec = model.Parameters.Specs.Where(s => s.IsTrainable).ElementAt(1);
            victim = spec.Name;
            string path = Path.Combine(dir, "checkpoints", "step_000004", "optimizer.safetensors");
            float[] m, v;
            Dictionary<string, string> meta;
            using (var f = Loom.Models.Formats.SafetensorsFile.Open(path))
            {
                m = f.ReadSingle("adam.m");
                v = f.ReadSingle("adam.v");
                meta = f.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
            }
            Assert.Equal(model.Parameters.GradientFloats, m.Length);
            v[spec.GradientOffset] = float.PositiveInfinity;
            Loom.Models.Formats.SafetensorsWriter.Write(path, [new("adam.m", [m.Length], m), new("adam.v", [v.Length], v)], meta);
        }
        using var again = new Gpt2Model(Tiny, new ModelOptions { Trainable = Train });
        var e = Assert.Throws<InvalidDataException>(() => LanguageModelTraining.Train(again, Pattern(4000), Pattern(800), options with { MaxSteps = 6 }, dir + "-b",
            resumeFrom: Path.Combine(dir, "checkpoints", "step_000004")));
        Assert.Contains("adam.v of " + victim, e.Message);
        Assert.Contains("at element 0 ", e.Message);
    }
}

[Collection(nameof(AllocationCollection))]
public class TrainingModeTests
{
    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();

    [Fact]
    public void StepsTrainWithDropoutAndEvaluationRunsWithout()
    {
        var config = new Gpt2Config { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };
        using var model = new Gpt2Model(config, new ModelOptions { Dropout = new Loom.Models.Regularization.DropoutOptions { Hidden = 0.2f } });
        using var reference = new Gpt2Model(config);
        model.InitializeWeights(1);
        var options = new TrainOptions { BatchSize = 2, SequenceLength = 16, GradientAccumulation = 3 };
        using var step = new TrainingStep(model, new WindowBatches(Pattern(3000), 2, 16, seed: 4), options);
        step.Run(0);
        Assert.False(model.IsTraining);
        Assert.Equal(3UL, model.DropoutStep);   // one mask draw per micro-batch
        // Evaluation after the step sees the weights without dropout: the loss of a dropout-free twin.
        model.Parameters.AllValues.CopyTo(reference.Parameters.AllValues);
        var eval = new WindowBatches(Pattern(800), 2, 16, seed: 0);
        float a = LanguageModelTraining.Evaluate(model, eval, 2);
        float b = LanguageModelTraining.Evaluate(reference, new WindowBatches(Pattern(800), 2, 16, seed: 0), 2);
        Assert.Equal(b, a);
    }
}
