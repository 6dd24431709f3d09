// Ten AdamW steps on each tiny T5 reference model (Fixtures/make_t5_fixture.py: lr 1e-3, weight
// decay 0.1 on the projection matrices and lm_head, global-norm clipping at 1.0): the loss curve
// must equal PyTorch's within 1e-5.
using Loom.Models.Formats;
using Loom.Models.T5;
using Loom.Training.Optimizers;

namespace Loom.Training.Tests.Optimizers;

public class T5TrainingReferenceTests
{
    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void TenStepLossCurveMatchesPyTorch(string variant)
    {
        using var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", $"t5_tiny_{variant}.safetensors"));
        using var model = new T5Model(T5Config.Parse(file.Metadata["config"]));
        model.LoadWeights(file, "w.");
        int B = int.Parse(file.Metadata["batch"]), S = int.Parse(file.Metadata["source"]), T = int.Parse(file.Metadata["target"]);
        int[] ids = file.ReadInt32("input_ids"), mask = file.ReadInt32("attention_mask"), labels = file.ReadInt32("labels");
        float[] want = file.ReadSingle("step_losses");
        float lr = float.Parse(file.Metadata["lr"], System.Globalization.CultureInfo.InvariantCulture);
        using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions { LearningRate = lr, WeightDecay = 0.1f });
        for (int step = 0; step < want.Length; step++)
        {
            float loss = model.Forward(ids, mask, labels, B, S, T);
            Assert.True(Math.Abs(loss - want[step]) <= 1e-5, $"t5 {variant} step {step}: PyTorch loss {want[step]:R}, Loom {loss:R}");
            model.Parameters.ZeroGradients();
            model.Backward();
            GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
            opt.Update(lr);
        }
    }
}
