using Loom.Models;
using Loom.Models.Classification;

namespace Loom.Training.Tests.Classification;

// The test double must be honest for the loop tests to mean anything: its gradient is checked
// against central finite differences of its own loss, for each of the three losses.
public class MeanPoolClassifierTests
{
    [Theory]
    [InlineData(ProblemType.SingleLabel)]
    [InlineData(ProblemType.MultiLabel)]
    [InlineData(ProblemType.Regression)]
    public void GradientsMatchFiniteDifferences(ProblemType type)
    {
        using var model = new MeanPoolClassifier(vocab: 7, width: 4, labels: 3, type, seed: 5);
        int[] ids = [1, 2, 3, 0, 4, 5, 6, 6];
        int[] mask = [1, 1, 1, 0, 1, 1, 1, 1];
        int[] classes = [2, 0];
        float[] values = [1, 0, 1, 0, 1, 1];
        if (type == ProblemType.Regression) values = [0.3f, -1.2f, 2f, 0.5f, 0.1f, -0.7f];
        float Loss()
        {
            var batch = new TokenBatch(ids, 2, 4) { AttentionMask = mask };
            return model.Forward(batch, type == ProblemType.SingleLabel ? ClassificationLabels.FromClasses(classes) : ClassificationLabels.FromValues(values));
        }
        model.Parameters.ZeroGradients();
        Loss();
        model.Backward();
        var grads = model.Parameters.AllGradients.ToArray();
        for (int p = 0; p < model.Parameters.Specs.Count; p++)
        {
            var spec = model.Parameters.Specs[p];
            var v = model.Parameters.Value(p);
            for (int i = 0; i < v.Length; i++)
            {
                float keep = v[i];
                const float h = 1e-2f;
                v[i] = keep + h; double up = Loss();
                v[i] = keep - h; double down = Loss();
                v[i] = keep;
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - grads[spec.GradientOffset + i]) < 2e-3, $"{spec.Name}[{i}]: analytic {grads[spec.GradientOffset + i]} numeric {numeric}");
            }
        }
    }
}
