// Every family's body on its own: ForwardHidden gives the final hidden states (the LM logits are
// the head applied to them), and BackwardHidden from an arbitrary hidden-state gradient R gives the
// gradient of L = Σ hidden ⊙ R, checked against central differences of L.
using Loom.Models.Gpt2;

namespace Loom.Models.Tests.Bodies;

public class HiddenStateTests
{
    public static TheoryData<string> Families => new(FixtureModel.Families);

    private static double Objective(FixtureModel f, float[] r)
    {
        var h = f.Model.ForwardHidden(new TokenBatch(f.Ids, f.B, f.T) { TokenTypes = f.TokenTypes, AttentionMask = f.AttentionMask });
        double s = 0;
        for (int i = 0; i < h.Length; i++) s += (double)h[i] * r[i];
        return s;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void BackwardFromHiddenStateGradientsMatchesFiniteDifferences(string family)
    {
        using var f = new FixtureModel(family);
        int n = f.B * f.T * f.Model.HiddenSize;
        var rng = new Random(3);
        float[] r = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        Assert.Equal(n, f.Model.ForwardHidden(new TokenBatch(f.Ids, f.B, f.T) { TokenTypes = f.TokenTypes, AttentionMask = f.AttentionMask }).Length);
        f.Parameters.ZeroGradients();
        f.Model.BackwardHidden(r);
        var p = f.Parameters;
        // Probe the largest gradient of each of several tensors: a first-layer projection, a norm, the embedding.
        var probes = p.Specs.Select((s, i) => (s, i))
            .Where(x => x.s.Name.Contains(".0.", StringComparison.Ordinal) || x.s.Name.Contains("embed", StringComparison.Ordinal) || x.s.Name.StartsWith("wte", StringComparison.Ordinal))
            .Take(6).ToList();
        Assert.NotEmpty(probes);
        foreach (var (spec, i) in probes)
        {
            var g = p.Gradient(i).ToArray();
            int j = 0;
            for (int k = 1; k < g.Length; k++) if (Math.Abs(g[k]) > Math.Abs(g[j])) j = k;
            var v = p.Value(i);
            float keep = v[j];
            const float h = 1e-2f;
            v[j] = keep + h; double up = Objective(f, r);
            v[j] = keep - h; double down = Objective(f, r);
            v[j] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - g[j]) <= 2e-2 * Math.Abs(fd) + 5e-3, $"{family} {spec.Name}[{j}]: finite difference {fd}, backward {g[j]}");
        }
    }

    [Fact]
    public void TheLmLogitsAreTheHeadAppliedToTheHiddenStates()
    {
        using var f = new FixtureModel("gpt2");
        var m = (Gpt2Model)f.Model;
        f.Forward();
        float[] logits = f.Logits();
        float[] hidden = m.ForwardHidden(new TokenBatch(f.Ids, f.B, f.T)).ToArray();
        int C = m.HiddenSize, V = m.VocabularySize;
        var wte = m.Parameters.Value(m.Parameters.IndexOf("wte.weight"));
        for (int row = 0; row < f.B * f.T; row += 5)
            for (int v = 0; v < V; v += 7)
            {
                double want = 0;
                for (int c = 0; c < C; c++) want += (double)hidden[row * C + c] * wte[v * C + c];
                Assert.Equal(want, logits[row * V + v], 4);
            }
    }

    [Fact]
    public void CausalBodiesAcceptRightPaddingOnly()
    {
        using var f = new FixtureModel("gpt2");
        int[] right = Enumerable.Range(0, f.B * f.T).Select(i => i % f.T < f.T - 2 ? 1 : 0).ToArray();
        float[] plain = f.Model.ForwardHidden(new TokenBatch(f.Ids, f.B, f.T)).ToArray();
        Assert.Equal(plain, f.Model.ForwardHidden(new TokenBatch(f.Ids, f.B, f.T) { AttentionMask = right }).ToArray());
        int[] left = right.Reverse().ToArray();
        var e = Assert.Throws<NotSupportedException>(() => f.Model.ForwardHidden(new TokenBatch(f.Ids, f.B, f.T) { AttentionMask = left }));
        Assert.Contains("right padding", e.Message);
    }
}
