using System.Runtime.InteropServices;
using Loom.Models.Gpt2;
using Loom.Training.Loop;
using Loom.Training.Precision;

namespace Loom.Training.Tests.Precision;

public class MixedPrecisionTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 64, MaxPositions = 16, Embedding = 32, Layers = 2, Heads = 4 };

    private static int[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (i * 7 + i / 13) % 64).ToArray();

    [Fact]
    public void Bf16StepRunsOnRoundedWeightsAndRestoresTheMasters()
    {
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(2);
        float[] master = model.Parameters.AllValues.ToArray();
        using var mp = new MixedPrecision(model.Parameters, TrainingPrecision.Bf16);
        mp.BeginStep();
        var rounded = MemoryMarshal.Cast<float, uint>(model.Parameters.AllValues);
        for (int i = 0; i < rounded.Length; i++)
        {
            Assert.Equal(0u, rounded[i] & 0xFFFF);                            // a bf16 value
            Assert.True(Math.Abs(model.Parameters.AllValues[i] - master[i]) <= Math.Abs(master[i]) / 256f); // nearest: within half a bf16 ulp (2⁻⁸ relative)
        }
        model.Parameters.AllGradients.Fill(1f / 3f);
        Assert.True(mp.EndStep());
        Assert.Equal(master, model.Parameters.AllValues.ToArray());          // masters back, bit for bit
        Assert.Equal(0u, MemoryMarshal.Cast<float, uint>(model.Parameters.AllGradients)[0] & 0xFFFF); // gradients rounded too
        Assert.Equal(4L * model.Parameters.Floats, mp.ExtraBytes);
    }

    [Fact]
    public void Fp16OverflowSkipsTheStepAndBacksOffTheScale()
    {
        using var model = new Gpt2Model(Tiny);
        model.InitializeWeights(3);
        var options = new TrainOptions
        {
            BatchSize = 4, SequenceLength = 16, MaxSteps = 40, WarmupSteps = 5, LearningRate = 3e-3f, MinLearningRate = 3e-4f,
            Precision = TrainingPrecision.Fp16,
            LossScaling = new LossScalerOptions { InitialScale = MathF.Pow(2, 40), GrowthInterval = 10 },
        };
        using var step = new TrainingStep(model, new WindowBatches(Pattern(4000), 4, 16, seed: 1), options);
        float[] before = model.Parameters.AllValues.ToArray();
        var first = step.Run(0);
        // Gradients × 2⁴⁰ exceed fp16's 65504: the update is skipped, weights untouched, scale halved.
        Assert.False(first.Applied);
        Assert.Equal(before, model.Parameters.AllValues.ToArray());
        Assert.Equal(MathF.Pow(2, 39), step.Precision.LossScale);
        var outcomes = Enumerable.Range(1, 39).Select(step.Run).ToList();
        Assert.Contains(outcomes, o => o.Applied);
        int firstApplied = outcomes.FindIndex(o => o.Applied);
        Assert.All(outcomes.Skip(firstApplied + 1).Take(9), o => Assert.True(o.Applied));
        Assert.True(step.Precision.SkippedSteps >= 1);
        // After 10 good steps in a row the scale grows again.
        Assert.True(outcomes.Count(o => o.Applied) >= 10);
        Assert.True(outcomes[^1].Loss < first.Loss - 0.3f, $"{first.Loss} → {outcomes[^1].Loss}");
    }

    [Theory]
    [InlineData(TrainingPrecision.Bf16)]
    [InlineData(TrainingPrecision.Fp16)]
    public void LowPrecisionTrainingFollowsTheFp32Curve(TrainingPrecision precision)
    {
        float[] Curve(TrainingPrecision p)
        {
            using var model = new Gpt2Model(Tiny);
            model.InitializeWeights(4);
            var options = new TrainOptions { BatchSize = 4, SequenceLength = 16, MaxSteps = 60, WarmupSteps = 5, LearningRate = 3e-3f, MinLearningRate = 3e-4f, Precision = p };
            using var step = new TrainingStep(model, new WindowBatches(Pattern(4000), 4, 16, seed: 1), options);
            return Enumerable.Range(0, 60).Select(i => step.Run(i).Loss).ToArray();
        }
        var fp32 = Curve(TrainingPrecision.Fp32);
        var low = Curve(precision);
        Assert.NotEqual(fp32, low);                                   // the rounding is real
        Assert.True(fp32[^1] < fp32[0] - 1f);
        for (int i = 0; i < fp32.Length; i++)
            Assert.True(Math.Abs(low[i] - fp32[i]) <= 0.05f * fp32[i], $"step {i}: {precision} {low[i]} vs fp32 {fp32[i]}");
    }
}
