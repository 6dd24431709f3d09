using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Training.Loop;
using Loom.Training.Precision;

namespace Loom.Training.Tests.Loop;

// GC.GetTotalAllocatedBytes counts every thread (the worker pool's too), so this class runs alone.
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

[Collection(nameof(AllocationCollection))]
public class TrainingStepTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 32, Embedding = 32, Layers = 2, Heads = 4 };
    private static readonly LlamaConfig TinyLlama = new() { VocabSize = 64, HiddenSize = 32, IntermediateSize = 64, Layers = 2, Heads = 4, KeyValueHeads = 2, MaxPositions = 32 };

    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();

    private static List<int[]> Documents(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, rng.Next(3, 40)).Select(_ => rng.Next(64)).ToArray()).ToList();
    }

    public static TheoryData<string, TrainingPrecision, bool> Cases => new()
    {
        { "gpt2", TrainingPrecision.Fp32, false },
        { "gpt2", TrainingPrecision.Bf16, true },
        { "gpt2", TrainingPrecision.Fp16, true },
        { "llama", TrainingPrecision.Fp32, true },
    };

    // "No managed allocation in the training step after warm-up": every batch shape is seen once, then
    // whole steps (batches, forward, backward, rounding, clipping, AdamW) allocate nothing on any thread.
    [Theory]
    [MemberData(nameof(Cases))]
    public void AStepAllocatesNothingAfterWarmUp(string family, TrainingPrecision precision, bool documents)
    {
        using ICausalLanguageModel model = family == "gpt2" ? new Gpt2Model(Tiny) : new LlamaModel(TinyLlama);
        model.InitializeWeights(1);
        var options = new TrainOptions { BatchSize = 4, SequenceLength = 16, MaxSteps = 100, GradientAccumulation = 2, Precision = precision };
        IBatchSource batches = documents
            ? new DocumentBatches(Documents(12, 3), options.BatchSize, options.SequenceLength, bucketWidth: 16)
            : new WindowBatches(Pattern(2000), options.BatchSize, options.SequenceLength, seed: 1);
        using var step = new TrainingStep(model, batches, options);
        for (int i = 0; i < 12; i++) step.Run(i); // two epochs: every shape planned
        // The count is process-wide, so a test-host thread can add a few bytes to one window; a real
        // per-step allocation shows in every window, so the quietest of three must be zero.
        var windows = new List<long>();
        for (int w = 0; w < 3; w++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 3; i++) step.Run(12 + 3 * w + i);
            windows.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        Assert.True(windows.Min() == 0, $"bytes allocated per 3 steps: {string.Join(", ", windows)}");
    }

    [Fact]
    public void DocumentBatchStateRestoresTheExactPosition()
    {
        var docs = Documents(30, 4);
        var a = new DocumentBatches(docs, 4, 32, 16, seed: 9);
        for (int i = 0; i < 5; i++) a.Next();
        var state = a.State;
        var expected = Enumerable.Range(0, 12).Select(_ => { var b = a.Next(); return (b.Inputs.ToArray(), b.Targets.ToArray()); }).ToList();
        var b = new DocumentBatches(docs, 4, 32, 16, seed: 1234) { State = state };
        foreach (var (inputs, targets) in expected)
        {
            var got = b.Next();
            Assert.Equal(inputs, got.Inputs);
            Assert.Equal(targets, got.Targets);
        }
    }

    [Fact]
    public void LlamaTrainsThroughTheLoopAndResumesBitIdentically()
    {
        var options = new TrainOptions
        {
            BatchSize = 4, SequenceLength = 16, MaxSteps = 12, WarmupSteps = 2, EvalEvery = 6, EvalBatches = 2, LearningRate = 3e-3f, MinLearningRate = 3e-4f,
            CheckpointEvery = 6, KeepCheckpoints = 3,
        };
        var docs = Documents(40, 5);
        IBatchSource Train() => new DocumentBatches(docs.Take(32), 4, 16, 16, seed: 2);
        IBatchSource Val() => new DocumentBatches(docs.Skip(32), 4, 16, 16, seed: 0);
        string straight = Path.Combine(Path.GetTempPath(), "loom-llama-a-" + Guid.NewGuid().ToString("N"));
        TrainResult full;
        using (var model = new LlamaModel(TinyLlama))
        {
            model.InitializeWeights(1);
            full = LanguageModelTraining.Train(model, Train(), Val(), options, straight);
        }
        Assert.True(full.ValidationLoss < full.Evaluations[0].ValidationLoss, $"{full.Evaluations[0].ValidationLoss} → {full.ValidationLoss}");
        using var again = new LlamaModel(TinyLlama);
        again.InitializeWeights(77);
        var rest = LanguageModelTraining.Train(again, Train(), Val(), options, straight + "-b", resumeFrom: Path.Combine(straight, "checkpoints", "step_000006"));
        Assert.Equal(full.History.Skip(6).Select(h => h.Loss), rest.History.Select(h => h.Loss));
        Assert.Equal(full.ValidationLoss, rest.ValidationLoss);

        // A GPT-2 run cannot resume from the Llama checkpoint; the message says which is which.
        using var gpt = new Gpt2Model(Tiny);
        var ex = Assert.Throws<InvalidDataException>(() => LanguageModelTraining.Train(gpt, Pattern(2000), Pattern(400), options, straight + "-c", resumeFrom: Path.Combine(straight, "checkpoints", "step_000006")));
        Assert.Contains("\"llama\"", ex.Message);
        Assert.Contains("\"gpt2\"", ex.Message);
    }
}
