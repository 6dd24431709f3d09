// Linear probing: a sequence classifier whose body is frozen and whose head trains. An AdamW step
// changes the head's tensors and nothing else, the optimizer holds moments for the head only, and
// the head's gradient equals the fully trainable model's (the body's role cannot change it).
using Loom.Models;
using Loom.Models.Bert;
using Loom.Models.Classification;
using Loom.Models.Gpt2;
using Loom.Training.Optimizers;

namespace Loom.Training.Tests.Optimizers;

public class FrozenBodyClassifierStepTests
{
    public static TheoryData<string> Families => new() { "gpt2", "bert" };

    private static object Config(string family) => family == "gpt2"
        ? new Gpt2Config { VocabSize = 40, MaxPositions = 8, Embedding = 16, Layers = 2, Heads = 2 }
        : new BertConfig { VocabSize = 40, MaxPositions = 8, HiddenSize = 16, Layers = 2, Heads = 2, IntermediateSize = 32 };

    [Theory]
    [MemberData(nameof(Families))]
    public void AnAdamWStepChangesOnlyTheHead(string family)
    {
        string head = family == "gpt2" ? "score." : "classifier.";
        var options = new SequenceClassifierOptions { NumLabels = 3, PadTokenId = 0, Seed = 5 };
        using var probe = SequenceClassifiers.Create(Config(family), options, new ModelOptions { Trainable = n => n.StartsWith(head, StringComparison.Ordinal) });
        using var full = SequenceClassifiers.Create(Config(family), options);
        Assert.Equal(probe.Parameters.AllValues.ToArray(), full.Parameters.AllValues.ToArray());
        int[] ids = [5, 6, 7, 8, 9, 0, 0, 0, 11, 12, 13, 14, 15, 16, 17, 18];
        int[] mask = ids.Select((id, i) => i < 8 && i >= 5 ? 0 : 1).ToArray();
        var batch = new TokenBatch(ids, 2, 8) { AttentionMask = mask };
        int[] labels = [2, 0];

        using var optimizer = new AdamWOptimizer(probe.Parameters, new AdamWOptions { WeightDecay = 0.1f });
        Assert.Equal(probe.Parameters.Specs.Where(s => s.Name.StartsWith(head, StringComparison.Ordinal)).Sum(s => (s.Count + 15) & ~15L), optimizer.FirstMoment.Length);
        float[] before = probe.Parameters.AllValues.ToArray();
        probe.Parameters.ZeroGradients();
        probe.Forward(batch, ClassificationLabels.FromClasses(labels));
        probe.Backward();
        full.Parameters.ZeroGradients();
        full.Forward(batch, ClassificationLabels.FromClasses(labels));
        full.Backward();
        var p = probe.Parameters;
        for (int i = 0; i < p.Specs.Count; i++)
            if (p.Specs[i].IsTrainable) Assert.Equal(full.Parameters.Gradient(i).ToArray(), p.Gradient(i).ToArray());
        optimizer.Update(1e-2f);
        for (int i = 0; i < p.Specs.Count; i++)
        {
            var s = p.Specs[i];
            var was = before.AsSpan(checked((int)s.Offset), checked((int)s.Count)).ToArray();
            if (s.Name.StartsWith(head, StringComparison.Ordinal)) Assert.NotEqual(was, p.Value(i).ToArray());
            else Assert.Equal(was, p.Value(i).ToArray());
        }
    }
}
