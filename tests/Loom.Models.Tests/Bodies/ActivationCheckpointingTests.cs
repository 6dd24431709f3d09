// Activation checkpointing in every family: recomputing each block's activations in the backward
// must give bit-identical losses and gradients (the same kernels on the same inputs in the same
// order), with and without dropout (the masks are regenerated from (seed, step, layer)), through the
// LM/MLM heads and through the sequence-classification heads.
using Loom.Models.Bert;
using Loom.Models.Classification;
using Loom.Models.Llama;
using Loom.Models.Regularization;
using Loom.Models.Tests.Classification;

namespace Loom.Models.Tests.Bodies;

public class ActivationCheckpointingTests
{
    public static TheoryData<string, float> FamiliesAndDropout()
    {
        var data = new TheoryData<string, float>();
        foreach (var f in ClassifierFixture.Families) { data.Add(f, 0f); if (f != "llama") data.Add(f, 0.2f); }
        return data;
    }

    [Theory]
    [MemberData(nameof(FamiliesAndDropout))]
    public void AClassifierGivesTheSameLossAndGradientsWithCheckpointing(string family, float dropout)
    {
        using var fx = new ClassifierFixture(family, "single");
        var modelOptions = new ModelOptions { Dropout = new DropoutOptions { Hidden = dropout } };
        (float, float[], float[]) Run(bool checkpointing)
        {
            using var m = SequenceClassifiers.Load(fx.Directory, new SequenceClassifierOptions(), modelOptions);
            m.ActivationCheckpointing = checkpointing;
            Assert.Equal(checkpointing, m.ActivationCheckpointing);
            ((ITrainingMode)m).IsTraining = dropout > 0;
            m.Parameters.ZeroGradients();
            float loss = m.Forward(fx.Batch, fx.Labels);
            m.Backward();
            return (loss, m.Scores.ToArray(), m.Parameters.AllGradients.ToArray());
        }
        var (loss, scores, grads) = Run(false);
        var (lossC, scoresC, gradsC) = Run(true);
        Assert.Equal(loss, lossC);
        Assert.Equal(scores, scoresC);
        Assert.Equal(grads, gradsC);
        Assert.Contains(grads, g => g != 0);
    }

    [Fact]
    public void LlamaLanguageModelGivesTheSameLossAndGradientsWithCheckpointing()
    {
        using var plain = new FixtureModel("llama");
        using var checkpointed = new FixtureModel("llama");
        ((LlamaModel)checkpointed.Model).ActivationCheckpointing = true;
        Assert.Equal(plain.ForwardBackward(), checkpointed.ForwardBackward());
        Assert.Equal(plain.Parameters.AllGradients.ToArray(), checkpointed.Parameters.AllGradients.ToArray());
        Assert.True(LlamaModel.PlanMemory(((LlamaModel)plain.Model).Config, 8, 32, true).ActivationBytes
                    < LlamaModel.PlanMemory(((LlamaModel)plain.Model).Config, 8, 32, false).ActivationBytes);
    }

    [Fact]
    public void BertMaskedLanguageModelGivesTheSameLossAndGradientsWithCheckpointing()
    {
        var options = new ModelOptions { Dropout = new DropoutOptions { Hidden = 0.1f } };
        using var plain = new FixtureModel("bert", options);
        using var checkpointed = new FixtureModel("bert", options);
        ((BertModel)plain.Model).IsTraining = true;
        ((BertModel)checkpointed.Model).IsTraining = true;
        ((BertModel)checkpointed.Model).ActivationCheckpointing = true;
        Assert.Equal(plain.ForwardBackward(), checkpointed.ForwardBackward());
        Assert.Equal(plain.Parameters.AllGradients.ToArray(), checkpointed.Parameters.AllGradients.ToArray());
    }

    // BertForMaskedLM (what loom train builds for model_type bert) passes checkpointing to its body.
    [Fact]
    public void BertForMaskedLMGivesBitIdenticalLossAndGradientsWithCheckpointing()
    {
        var config = new BertConfig { VocabSize = 60, HiddenSize = 16, Layers = 2, Heads = 2, IntermediateSize = 32, MaxPositions = 16 };
        var options = new ModelOptions { Dropout = new DropoutOptions { Hidden = 0.1f, Attention = 0.1f, Seed = 5 } };
        int[] ids = Enumerable.Range(0, 2 * 12).Select(i => (i * 13 + 3) % 60).ToArray();
        int[] targets = ids.Select((id, i) => i % 4 == 1 ? id : -100).ToArray();
        (float, float[]) Run(bool checkpointing)
        {
            using var m = new BertForMaskedLM(config, options);
            m.InitializeWeights(9);
            m.ActivationCheckpointing = checkpointing;
            Assert.Equal(checkpointing, m.ActivationCheckpointing);
            m.IsTraining = true;
            float loss = m.Forward(ids, targets, 2, 12);
            m.Backward();
            return (loss, m.Parameters.AllGradients.ToArray());
        }
        var (loss, grads) = Run(false);
        var (lossC, gradsC) = Run(true);
        Assert.Equal(loss, lossC);
        Assert.Equal(grads, gradsC);
        Assert.Contains(grads, g => g != 0);
    }
}
