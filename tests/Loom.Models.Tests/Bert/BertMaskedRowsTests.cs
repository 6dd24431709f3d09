// BertModel.LogitsForTargetsOnly: the masked-LM head on the predicted rows only must give the loss and
// every gradient of the full head (the path BertReferenceTests checks against PyTorch); only the
// summation order of the mean differs, so they agree to float rounding, not bit for bit.
using Loom.Models.Bert;
using Loom.Models.Regularization;

namespace Loom.Models.Tests.Bert;

public class BertMaskedRowsTests
{
    private static readonly BertConfig Config = new() { VocabSize = 97, HiddenSize = 32, Layers = 2, Heads = 2, IntermediateSize = 64, MaxPositions = 16 };

    private static (float Loss, float[] Gradients, float[] Logits) Run(bool targetsOnly, int[] ids, int[] targets, int[] mask, int batch, int time, bool checkpointing = false)
    {
        var options = new ModelOptions { Dropout = new DropoutOptions { Hidden = 0.1f, Attention = 0.1f, Seed = 3 } };
        using var m = new BertModel(Config, options) { LogitsForTargetsOnly = targetsOnly, IsTraining = true, ActivationCheckpointing = checkpointing };
        m.InitializeWeights(11);
        float loss = m.Forward(ids, new int[ids.Length], mask, targets, batch, time);
        float[] logits = m.Logits.ToArray();
        m.Backward(2f);
        return (loss, m.Parameters.AllGradients.ToArray(), logits);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheHeadOnPredictedRowsGivesTheFullHeadsLossAndGradients(bool checkpointing)
    {
        const int B = 3, T = 13;
        var rng = new Random(7);
        int[] ids = Enumerable.Range(0, B * T).Select(_ => rng.Next(Config.VocabSize)).ToArray();
        int[] targets = ids.Select(id => rng.NextDouble() < 0.2 ? (id + 5) % Config.VocabSize : -100).ToArray();
        int[] mask = Enumerable.Range(0, B * T).Select(i => i % T < T - 2 || i / T == 0 ? 1 : 0).ToArray();   // padding at the end of rows 1 and 2
        Assert.InRange(targets.Count(t => t != -100), 2, B * T - 2);

        var full = Run(false, ids, targets, mask, B, T, checkpointing);
        var rows = Run(true, ids, targets, mask, B, T, checkpointing);

        Assert.Equal(full.Loss, rows.Loss, 1e-5f);
        Assert.Equal(full.Gradients.Length, rows.Gradients.Length);
        double maxAbs = full.Gradients.Max(g => Math.Abs(g));
        Assert.True(maxAbs > 0);
        for (int i = 0; i < full.Gradients.Length; i++)
            Assert.True(Math.Abs(full.Gradients[i] - rows.Gradients[i]) <= 1e-5 * maxAbs + 1e-7, $"gradient {i}: {full.Gradients[i]} vs {rows.Gradients[i]}");

        // Logits: (M, V) rows, in position order, equal to the full head's rows at the predicted positions.
        int V = Config.VocabSize, j = 0;
        Assert.Equal(targets.Count(t => t != -100) * V, rows.Logits.Length);
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] == -100) continue;
            for (int v = 0; v < V; v++) Assert.Equal(full.Logits[i * V + v], rows.Logits[j * V + v], 1e-5f);
            j++;
        }
    }

    [Fact]
    public void ABatchWithoutTargetsAtAnyPositionFallsBackToTheFullHead()
    {
        const int B = 1, T = 8;
        int[] ids = Enumerable.Range(0, T).Select(i => i * 7 % Config.VocabSize).ToArray();
        int[] none = Enumerable.Repeat(-100, T).ToArray();
        var full = Run(false, ids, none, Enumerable.Repeat(1, T).ToArray(), B, T);
        var rows = Run(true, ids, none, Enumerable.Repeat(1, T).ToArray(), B, T);
        Assert.Equal(full.Loss, rows.Loss);
        Assert.Equal(full.Gradients, rows.Gradients);
        Assert.Equal(T * Config.VocabSize, rows.Logits.Length);
    }

    [Fact]
    public void BertForMaskedLMPredictsOnlyTheMaskedRows()
    {
        using var m = new BertForMaskedLM(Config);
        Assert.True(m.Body.LogitsForTargetsOnly);
    }
}
