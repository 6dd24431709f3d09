// Dropout on the attention probabilities (HF GPT-2 attn_pdrop, BERT attention_probs_dropout_prob),
// alone (hidden dropout off) so these tests see only it: off outside training mode, on in it with a
// new mask each step, the backward through a fixed mask equal to finite differences of the loss
// (query/key weights reach the loss only through the dropped probabilities' softmax, values through
// P ⊙ M), and activation checkpointing regenerates the masks bit for bit.
using Loom.Models.Bert;
using Loom.Models.Gpt2;
using Loom.Models.Regularization;

namespace Loom.Models.Tests.Regularization;

public class AttentionDropoutTests
{
    public static TheoryData<string> Families => new() { "gpt2", "bert" };

    private static readonly ModelOptions WithAttentionDropout = new() { Dropout = new DropoutOptions { Attention = 0.3f, Seed = 17 } };

    [Theory]
    [MemberData(nameof(Families))]
    public void AttentionDropoutIsOffOutsideTrainingModeAndOnInIt(string family)
    {
        using var plain = new FixtureModel(family);
        using var drop = new FixtureModel(family, WithAttentionDropout);
        var mode = (ITrainingMode)drop.Model;
        Assert.Equal(plain.Forward(), drop.Forward());
        Assert.Equal(plain.Logits(), drop.Logits());
        mode.IsTraining = true;
        float a = drop.Forward();
        Assert.NotEqual(plain.Forward(), a);
        Assert.Equal(a, drop.Forward());
        drop.Backward();
        Assert.Equal(1UL, mode.DropoutStep);
        Assert.NotEqual(a, drop.Forward());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void BackwardThroughTheProbabilityMasksMatchesFiniteDifferences(string family)
    {
        using var f = new FixtureModel(family, WithAttentionDropout);
        var mode = (ITrainingMode)f.Model;
        mode.IsTraining = true;
        mode.DropoutStep = 3;
        f.Parameters.ZeroGradients();
        f.Forward();
        f.Backward();
        mode.DropoutStep = 3;   // finite differences under the same masks
        var p = f.Parameters;
        string[] probes = family == "gpt2"
            ? ["h.0.attn.c_attn.weight", "h.1.attn.c_attn.weight", "h.0.attn.c_attn.bias"]
            : ["bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.0.attention.self.key.weight", "bert.encoder.layer.1.attention.self.value.weight"];
        foreach (var name in probes)
        {
            int i = p.IndexOf(name);
            var g = p.Gradient(i).ToArray();
            var v = p.Value(i);
            // the three largest gradients of the tensor
            foreach (int j in Enumerable.Range(0, g.Length).OrderByDescending(k => Math.Abs(g[k])).Take(3))
            {
                float keep = v[j];
                const float h = 1e-2f;
                v[j] = keep + h; double up = f.Forward();
                v[j] = keep - h; double down = f.Forward();
                v[j] = keep;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - g[j]) <= 3e-2 * Math.Abs(fd) + 1e-3, $"{family} {name}[{j}]: finite difference {fd}, backward {g[j]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void CheckpointingRegeneratesTheSameProbabilityMasks(string family)
    {
        using var a = new FixtureModel(family, WithAttentionDropout);
        using var b = new FixtureModel(family, WithAttentionDropout);
        if (b.Model is Gpt2Model g) g.ActivationCheckpointing = true; else ((BertModel)b.Model).ActivationCheckpointing = true;
        ((ITrainingMode)a.Model).IsTraining = true;
        ((ITrainingMode)b.Model).IsTraining = true;
        Assert.Equal(a.ForwardBackward(), b.ForwardBackward());
        var ga = a.Gradients();
        foreach (var (name, grad) in b.Gradients()) Assert.Equal(ga[name], grad);
    }
}
