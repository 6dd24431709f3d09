// Ten AdamW steps (weight decay on matmul weights only, global-norm clipping at 1.0) on each tiny
// reference model: the loss curve must equal PyTorch's within 1e-5.
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Training.Optimizers;

namespace Loom.Training.Tests.Optimizers;

public class TrainingReferenceTests
{
    private static ICausalLanguageModel Load(string family, SafetensorsFile file)
    {
        if (family == "gpt2")
        {
            var g = new Gpt2Model(Gpt2Config.Parse(file.Metadata["config"]));
            g.LoadWeights(file, "w.");
            return g;
        }
        var l = new LlamaModel(LlamaConfig.Parse(file.Metadata["config"]));
        l.LoadWeights(file, "w.");
        return l;
    }

    [Fact]
    public void BertTenStepLossCurveMatchesPyTorch()
    {
        using var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert_tiny.safetensors"));
        using var model = new Loom.Models.Bert.BertModel(Loom.Models.Bert.BertConfig.Parse(file.Metadata["config"]));
        model.LoadWeights(file, "w.");
        int B = int.Parse(file.Metadata["batch"]), T = int.Parse(file.Metadata["time"]);
        int[] ids = file.ReadInt32("ids"), types = file.ReadInt32("token_types"), mask = file.ReadInt32("attention_mask"), targets = file.ReadInt32("targets");
        float[] want = file.ReadSingle("step_losses");
        float lr = float.Parse(file.Metadata["lr"], System.Globalization.CultureInfo.InvariantCulture);
        using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions { LearningRate = lr, WeightDecay = 0.1f });
        for (int step = 0; step < want.Length; step++)
        {
            float loss = model.Forward(ids, types, mask, targets, B, T);
            Assert.True(Math.Abs(loss - want[step]) <= 1e-5, $"bert step {step}: PyTorch loss {want[step]:R}, Loom {loss:R}");
            model.Parameters.ZeroGradients();
            model.Backward();
            GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
            opt.Update(lr);
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void TenStepLossCurveMatchesPyTorch(string family)
    {
        using var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", $"{family}_tiny.safetensors"));
        using var model = Load(family, file);
        int B = int.Parse(file.Metadata["batch"]), T = int.Parse(file.Metadata["time"]);
        int[] ids = file.ReadInt32("ids"), targets = file.ReadInt32("targets");
        float[] want = file.ReadSingle("step_losses");
        using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions { LearningRate = 1e-2f, WeightDecay = 0.1f });
        for (int step = 0; step < want.Length; step++)
        {
            float loss = model.Forward(ids, targets, B, T);
            Assert.True(Math.Abs(loss - want[step]) <= 1e-5, $"{family} step {step}: PyTorch loss {want[step]:R}, Loom {loss:R}");
            model.Parameters.ZeroGradients();
            model.Backward();
            GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
            opt.Update(1e-2f);
        }
    }

    // The training loop's form: clipping fused into the update (GlobalNorm, then Update(lr, coefficient))
    // and the gradients' zeroing deferred to their first write (ZeroGradientsOnFirstWrite: the weight-gradient
    // GEMMs write instead of adding). Same PyTorch curve, and bit for bit the unfused, eagerly zeroed step.
    [Fact]
    public void FusedClippingMatchesPyTorchAndTheUnfusedStepBitForBit()
    {
        using var file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2_tiny.safetensors"));
        using var fused = Load("gpt2", file);
        using var plain = Load("gpt2", file);
        int B = int.Parse(file.Metadata["batch"]), T = int.Parse(file.Metadata["time"]);
        int[] ids = file.ReadInt32("ids"), targets = file.ReadInt32("targets");
        float[] want = file.ReadSingle("step_losses");
        using var pool = new Loom.Core.Threading.WorkerPool(2);
        using var optFused = new AdamWOptimizer(fused.Parameters, new AdamWOptions { LearningRate = 1e-2f, WeightDecay = 0.1f }, pool);
        using var optPlain = new AdamWOptimizer(plain.Parameters, new AdamWOptions { LearningRate = 1e-2f, WeightDecay = 0.1f });
        bool clipped = false;
        for (int step = 0; step < want.Length; step++)
        {
            float loss = fused.Forward(ids, targets, B, T);
            float lossPlain = plain.Forward(ids, targets, B, T);
            Assert.True(Math.Abs(loss - want[step]) <= 1e-5, $"step {step}: PyTorch loss {want[step]:R}, Loom {loss:R}");
            Assert.Equal(BitConverter.SingleToInt32Bits(lossPlain), BitConverter.SingleToInt32Bits(loss));
            fused.Parameters.ZeroGradientsOnFirstWrite(pool);
            fused.Backward();
            plain.Parameters.ZeroGradients();
            plain.Backward();
            float norm = GradientClipping.GlobalNorm(fused.Parameters, pool);
            clipped |= norm > 1f;
            optFused.Update(1e-2f, GradientClipping.Coefficient(norm, 1f));
            Assert.Equal(BitConverter.SingleToInt32Bits(GradientClipping.ClipGlobalNorm(plain.Parameters, 1f)), BitConverter.SingleToInt32Bits(norm));
            optPlain.Update(1e-2f);
        }
        Assert.True(clipped, "the fixture's gradients never exceeded the clip norm: the fused scale was not exercised");
        Assert.True(fused.Parameters.AllValues.SequenceEqual(plain.Parameters.AllValues), "fused and unfused parameters differ");
    }
}
