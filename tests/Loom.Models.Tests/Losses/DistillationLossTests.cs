// Distillation loss against PyTorch autograd (Fixtures/make_loss_fixtures.py: α·T²·KL + (1−α)·CE with
// F.kl_div and F.cross_entropy) and finite differences; vocabularies that differ are a clear error.
using Loom.Models.Formats;
using Loom.Models.Losses;

namespace Loom.Models.Tests.Losses;

public class DistillationLossTests
{
    private const int V = 13;
    private const float Alpha = 0.7f, Temperature = 2f;

    [Fact]
    public void LossAndStudentGradientArePyTorchsAndMatchFiniteDifferences()
    {
        using var f = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "losses.safetensors"));
        float[] student = f.ReadSingle("distill.student"), teacher = f.ReadSingle("distill.teacher");
        int[] targets = f.ReadInt32("distill.targets");
        float[] grad = (float[])student.Clone();
        float loss = DistillationLoss.ForwardBackward(grad, teacher, targets, V, Alpha, Temperature);
        Assert.Equal(f.ReadSingle("distill.loss")[0], loss, 1e-5f);
        DpoLossTests.AssertClose(f.ReadSingle("distill.grad"), grad, 1e-6);

        const float h = 1e-2f;
        for (int k = 0; k < student.Length; k += 2)
        {
            float keep = student[k];
            student[k] = keep + h; double up = DistillationLoss.ForwardBackward((float[])student.Clone(), teacher, targets, V, Alpha, Temperature, backward: false);
            student[k] = keep - h; double down = DistillationLoss.ForwardBackward((float[])student.Clone(), teacher, targets, V, Alpha, Temperature, backward: false);
            student[k] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grad[k]) < 1e-4 + 1e-2 * Math.Abs(fd), $"logit {k}: finite difference {fd}, backward {grad[k]}");
        }
    }

    [Fact]
    public void AlphaZeroIsCrossEntropyAndATeacherWithAnotherVocabularyIsRefused()
    {
        float[] s = [1f, 2f, 0.5f, -1f, 0f, 3f];
        float[] t = [0f, 0f, 0f, 5f, 5f, 5f];
        int[] y = [1, 2];
        float ce = (float)(Enumerable.Range(0, 2).Select(r => Math.Log(s.Skip(r * 3).Take(3).Sum(v => Math.Exp(v))) - s[r * 3 + y[r]]).Average());
        Assert.Equal(ce, DistillationLoss.ForwardBackward((float[])s.Clone(), t, y, 3, 0f, 4f, backward: false), 1e-6f);
        var e = Assert.Throws<ArgumentException>(() => DistillationLoss.ForwardBackward(s, new float[8], y, 3, 0.5f, 2f));
        Assert.Contains("vocabularies must match", e.Message);
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => DistillationLoss.ForwardBackward(s, t, y, 3, 0.5f, 0f)).Message);
    }
}
