// LoRA on T5 through the projection seam (no T5-specific adapter code): PEFT-style targets "q" and
// "v" wrap every self- and cross-attention q and v of both stacks; the base is frozen; with B = 0 the
// model equals its base (PyTorch's logits), and lora_B's gradient is the chain rule of PyTorch's
// gradient of the adapted weight: dL/dB = scaling · dL/dW · Aᵀ.
using Loom.Models.Adapters;
using Loom.Models.Formats;
using Loom.Models.T5;
using Loom.Models.Tests.Gpt2;

namespace Loom.Models.Tests.T5;

public class T5LoraTests
{
    [Fact]
    public void LoraWrapsT5ProjectionsAndItsGradientFollowsPyTorchs()
    {
        using var file = SafetensorsFile.Open(T5ReferenceTests.FixturePath("v11"));
        var config = T5Config.Parse(file.Metadata["config"]);
        var lora = new LoraOptions { Rank = 4, Alpha = 8, TargetModules = ["q", "v"] };
        using var model = new T5Model(config, LoraAdapters.CreateModelOptions(lora, config));
        var p = model.Parameters;
        foreach (var (s, i) in p.Specs.Select((s, i) => (s, i)))
            if (!s.Name.Contains(".lora_", StringComparison.Ordinal)) file.ReadSingle("w." + s.Name, p.Value(i), s.Shape);
        LoraAdapters.InitializeAdapter(p, 3);
        // q and v of 2 encoder self-attentions + 2 decoder self- and 2 cross-attentions, A and B each
        Assert.Equal(2 * 2 * (2 + 2 + 2), p.Specs.Count(s => s.Name.Contains(".lora_", StringComparison.Ordinal)));
        Assert.All(p.Specs.Select((s, i) => (s, i)), x => Assert.Equal(x.s.Name.Contains(".lora_", StringComparison.Ordinal), p.IsTrainable(x.i)));

        int B = int.Parse(file.Metadata["batch"]), S = int.Parse(file.Metadata["source"]), T = int.Parse(file.Metadata["target"]);
        float loss = model.Forward(file.ReadInt32("input_ids"), file.ReadInt32("attention_mask"), file.ReadInt32("labels"), B, S, T);
        Gpt2ReferenceTests.AssertClose(file.ReadSingle("logits"), model.Logits, "logits with B = 0");
        Assert.Equal(file.ReadSingle("loss")[0], loss, 1e-5);
        p.ZeroGradients();
        model.Backward();
        foreach (var path in new[] { "encoder.block.1.layer.0.SelfAttention.v", "decoder.block.0.layer.1.EncDecAttention.q", "decoder.block.1.layer.0.SelfAttention.q" })
        {
            float[] gW = file.ReadSingle($"g.{path}.weight");                                   // (out, in)
            float[] a = p.Value(p.IndexOf(path + ".lora_A.weight")).ToArray();                 // (r, in)
            int r = lora.Rank, inF = a.Length / r, outF = gW.Length / inF;
            var want = new float[outF * r];
            for (int o = 0; o < outF; o++)
                for (int k = 0; k < r; k++)
                {
                    double sum = 0;
                    for (int i = 0; i < inF; i++) sum += gW[o * inF + i] * a[k * inF + i];
                    want[o * r + k] = (float)(lora.Scaling * sum);
                }
            Gpt2ReferenceTests.AssertClose(want, p.Gradient(p.IndexOf(path + ".lora_B.weight")), "grad " + path + ".lora_B");
        }
    }
}
