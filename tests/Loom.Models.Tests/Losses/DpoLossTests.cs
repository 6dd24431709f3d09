// DPO against PyTorch autograd (Fixtures/make_loss_fixtures.py) and finite differences: sequence
// log-probs over response tokens only, the loss, TRL's reward statistics, and ∂L/∂ policy logits.
using Loom.Models.Formats;
using Loom.Models.Losses;

namespace Loom.Models.Tests.Losses;

public class DpoLossTests
{
    private const int B = 3, T = 5, V = 11;
    private const float Beta = 0.1f;

    private sealed record Case(float[] ChosenLogits, float[] RejectedLogits, int[] ChosenLabels, int[] RejectedLabels, float[] RefChosen, float[] RefRejected);

    private static (Case C, SafetensorsFile F) Load()
    {
        var f = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "losses.safetensors"));
        return (new Case(f.ReadSingle("dpo.chosen_logits"), f.ReadSingle("dpo.rejected_logits"), f.ReadInt32("dpo.chosen_labels"), f.ReadInt32("dpo.rejected_labels"),
            f.ReadSingle("dpo.ref_chosen"), f.ReadSingle("dpo.ref_rejected")), f);
    }

    // Loss and gradients with respect to both logit blocks, the way a trainer would chain the pieces.
    private static (DpoStatistics Stats, float[] GradChosen, float[] GradRejected, float[] Pc, float[] Pr) Run(Case c)
    {
        float[] pc = new float[B], pr = new float[B], gc = new float[B], gr = new float[B];
        DpoLoss.SequenceLogProbabilities(c.ChosenLogits, c.ChosenLabels, B, T, V, pc);
        DpoLoss.SequenceLogProbabilities(c.RejectedLogits, c.RejectedLabels, B, T, V, pr);
        var stats = DpoLoss.Forward(pc, pr, c.RefChosen, c.RefRejected, Beta, gc, gr);
        float[] dc = (float[])c.ChosenLogits.Clone(), dr = (float[])c.RejectedLogits.Clone();
        DpoLoss.SequenceLogProbabilitiesBackward(dc, c.ChosenLabels, B, T, V, gc);
        DpoLoss.SequenceLogProbabilitiesBackward(dr, c.RejectedLabels, B, T, V, gr);
        return (stats, dc, dr, pc, pr);
    }

    [Fact]
    public void LossStatisticsAndLogitGradientsArePyTorchs()
    {
        var (c, f) = Load();
        using var _ = f;
        var (stats, dc, dr, pc, pr) = Run(c);
        AssertClose(f.ReadSingle("dpo.policy_chosen"), pc, 1e-4);
        AssertClose(f.ReadSingle("dpo.policy_rejected"), pr, 1e-4);
        Assert.Equal(f.ReadSingle("dpo.loss")[0], stats.Loss, 1e-6f);
        var s = f.ReadSingle("dpo.stats");
        AssertClose(s, [stats.ChosenReward, stats.RejectedReward, stats.Margin, stats.Accuracy], 1e-5);
        AssertClose(f.ReadSingle("dpo.chosen_grad"), dc, 1e-6);
        AssertClose(f.ReadSingle("dpo.rejected_grad"), dr, 1e-6);
        // Prompt positions get no gradient.
        for (int row = 0; row < B * T; row++)
            if (c.ChosenLabels[row] == -100) Assert.All(dc.AsSpan(row * V, V).ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void LogitGradientsMatchFiniteDifferences()
    {
        var (c, f) = Load();
        using var _ = f;
        var (_, dc, dr, _, _) = Run(c);
        const float h = 1e-2f;
        foreach (var (logits, grad) in new[] { (c.ChosenLogits, dc), (c.RejectedLogits, dr) })
            for (int k = 0; k < logits.Length; k += 3)
            {
                float keep = logits[k];
                logits[k] = keep + h; double up = Run(c).Stats.Loss;
                logits[k] = keep - h; double down = Run(c).Stats.Loss;
                logits[k] = keep;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - grad[k]) < 2e-5 + 1e-2 * Math.Abs(fd), $"logit {k}: finite difference {fd}, backward {grad[k]}");
            }
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        float[] one = [0f];
        Assert.Contains("beta", Assert.Throws<ArgumentException>(() => DpoLoss.Forward(one, one, one, one, 0f, new float[1], new float[1])).Message);
        Assert.Contains("label 11", Assert.Throws<ArgumentException>(() => DpoLoss.SequenceLogProbabilities(new float[V], [11], 1, 1, V, new float[1])).Message);
    }

    internal static void AssertClose(float[] want, float[] got, double tol)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"[{i}]: {got[i]} vs PyTorch {want[i]}");
    }
}
