// Loss only on assistant tokens (issue 14 §2), checked through the whole SFT path — encoder, labels,
// SequenceBatches, the model's loss and backward: changing the label of every prompt position leaves every
// gradient bit-identical, while changing the label of one answer token changes them (so the check can fail:
// a pipeline that trained on prompt tokens, or on nothing, would fail one half or the other).
using Loom.Models;
using Loom.Models.Gpt2;
using Loom.Training.Instructions;
using Loom.Training.Loop;

namespace Loom.Training.Tests.Instructions;

public class PromptMaskingTests
{
    private static float[] Gradients(SupervisedSequence s, Gpt2Model model)
    {
        var batches = new SequenceBatches([[s.ToLabeled()], [ConversationEncoderTests.Encoder().Encode(Other, out _)!.ToLabeled()]], 2, padId: 50256, seed: 1, shuffle: false);
        var b = batches.Next();
        model.Parameters.ZeroGradients();
        model.Forward(b.Inputs, b.Targets, b.Batch, b.Time);
        model.Backward();
        var all = new List<float>();
        for (int i = 0; i < model.Parameters.Specs.Count; i++) all.AddRange(model.Parameters.Gradient(i).ToArray());
        return all.ToArray();
    }

    private static readonly Conversation Other = new([new("user", "Two plus two?"), new("assistant", "Four.")], "chat.jsonl:9");

    [Fact]
    public void ChangingPromptLabelsChangesNoGradientAndChangingAnAnswerLabelDoes()
    {
        var tokenizerVocab = 50257;
        using var model = new Gpt2Model(new Gpt2Config { VocabSize = tokenizerVocab, MaxPositions = 128, Embedding = 16, Layers = 1, Heads = 2 }, ModelOptions.Default);
        model.InitializeWeights(7);
        var s = ConversationEncoderTests.Encoder().Encode(ConversationEncoderTests.TwoTurns, out _)!;
        int prompt = s.Assistant.Count(a => !a), answer = s.Assistant.Count(a => a);
        Assert.True(prompt > 10 && answer > 4);
        float[] baseline = Gradients(s, model);

        var flipped = (int[])s.Ids.Clone();
        for (int i = 0; i < flipped.Length; i++) if (!s.Assistant[i]) flipped[i] = (flipped[i] + 1 + i) % tokenizerVocab;
        Assert.Equal(baseline, Gradients(s with { Labels = flipped }, model));   // bit for bit

        var oneAnswer = (int[])s.Ids.Clone();
        int at = Array.FindLastIndex(s.Assistant, a => a);
        oneAnswer[at] = (oneAnswer[at] + 1) % tokenizerVocab;
        Assert.NotEqual(baseline, Gradients(s with { Labels = oneAnswer }, model));
    }
}
