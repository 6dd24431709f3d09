using Loom.Models.Formats;
using Loom.Models.Llama;
using Loom.Training.Optimizers;

namespace Loom.Training.Tests.Optimizers;

public class LlamaTrainingReferenceTests
{
    [Fact]
    public void TenStepLossCurveMatchesPyTorch()
    {
        using var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama_tiny.safetensors"));
        using var model = new LlamaModel(LlamaConfig.Parse(file.Metadata["config"]));
        model.LoadWeights(file, "w.");
        int B = int.Parse(file.Metadata["batch"]), T = int.Parse(file.Metadata["time"]);
        int[] ids = file.ReadInt32("ids"), targets = file.ReadInt32("targets");
        float[] want = file.ReadSingle("step_losses");
        using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions { LearningRate = 1e-2f, WeightDecay = 0.1f });
        for (int step = 0; step < want.Length; step++)
        {
            float loss = model.Forward(ids, targets, B, T);
            Assert.True(Math.Abs(loss - want[step]) <= 1e-5, $"step {step}: PyTorch loss {want[step]:R}, Loom {loss:R}");
            model.Parameters.ZeroGradients();
            model.Backward();
            GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
            opt.Update(1e-2f);
        }
    }
}
