// Distillation against a cached sparse teacher (top-k log-probabilities + the tail mass as one class)
// against PyTorch autograd (Fixtures/make_sparse_kd_fixture.py: the same coarsened KL written with
// log_softmax/logsumexp, α·T²·KL_S + (1−α)·CE) and finite differences; TopK against torch.topk; and at
// k = V the sparse loss is the full distillation loss (DistillationLoss).
using Loom.Models.Formats;
using Loom.Models.Losses;

namespace Loom.Models.Tests.Losses;

public class SparseDistillationLossTests
{
    private const int V = 29, N = 7;
    private const float Alpha = 0.6f, Temperature = 2f;

    [Theory]
    [InlineData("topk", 5)]
    [InlineData("all", V)]
    public void LossGradientAndTopKArePyTorchs(string name, int k)
    {
        using var f = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sparse_kd.safetensors"));
        float[] student = f.ReadSingle(name + ".student"), teacher = f.ReadSingle(name + ".teacher"), logp = f.ReadSingle(name + ".logp");
        int[] targets = f.ReadInt32(name + ".targets"), ids = f.ReadInt32(name + ".ids");

        // The cache Loom would write from the teacher's logits: torch.topk's ids and log_softmax(t/T) values.
        var myIds = new int[N * k];
        var myLogp = new float[N * k];
        for (int r = 0; r < N; r++) SparseDistillationLoss.TopK(teacher.AsSpan(r * V, V), Temperature, myIds.AsSpan(r * k, k), myLogp.AsSpan(r * k, k));
        Assert.Equal(ids, myIds);
        DpoLossTests.AssertClose(logp, myLogp, 1e-5);

        float[] grad = (float[])student.Clone();
        float loss = SparseDistillationLoss.ForwardBackward(grad, ids, logp, targets, V, k, Alpha, Temperature);
        Assert.Equal(f.ReadSingle(name + ".loss")[0], loss, 1e-4f);
        DpoLossTests.AssertClose(f.ReadSingle(name + ".grad"), grad, 1e-5);

        const float h = 1e-2f;
        for (int j = 0; j < student.Length; j += 3)
        {
            float keep = student[j];
            student[j] = keep + h; double up = SparseDistillationLoss.ForwardBackward((float[])student.Clone(), ids, logp, targets, V, k, Alpha, Temperature, backward: false);
            student[j] = keep - h; double down = SparseDistillationLoss.ForwardBackward((float[])student.Clone(), ids, logp, targets, V, k, Alpha, Temperature, backward: false);
            student[j] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grad[j]) < 1e-4 + 1e-2 * Math.Abs(fd), $"logit {j}: finite difference {fd}, backward {grad[j]}");
        }
        if (k == V)
        {
            Assert.Equal(f.ReadSingle(name + ".full_kl")[0], f.ReadSingle(name + ".sparse_kl")[0], 1e-5f);   // PyTorch: KL_S = KL at k = V
            float full = DistillationLoss.ForwardBackward((float[])student.Clone(), teacher, targets, V, Alpha, Temperature, backward: false);
            Assert.Equal(full, loss, 1e-4f);
        }
    }

    [Fact]
    public void RepeatedOrOutOfRangeTeacherIdsAreRefused()
    {
        var s = new float[2 * 4];
        Assert.Throws<ArgumentException>(() => SparseDistillationLoss.ForwardBackward(s, [1, 1, 0, 2], [-1f, -1f, -1f, -1f], [0, 1], 4, 2, 0.5f, 2f));
        Assert.Throws<ArgumentException>(() => SparseDistillationLoss.ForwardBackward(s, [1, 9, 0, 2], [-1f, -1f, -1f, -1f], [0, 1], 4, 2, 0.5f, 2f));
    }
}
