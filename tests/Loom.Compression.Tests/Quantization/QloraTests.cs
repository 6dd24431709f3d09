// QLoRA's defining property (Dettmers et al., 2023, §3): LoRA on a frozen NF4 base computes the loss
// and the adapter gradients of LoRA on the f32 base whose weights are the NF4 dequantization — the
// backward passes through the quantized projections to the input (dx), and the 4-bit weights get no
// gradient (they have none: frozen and held by their projections). Reference: the dense model with
// dequantized weights, whose backward is checked against PyTorch and finite differences in Models.
using Loom.Core.Kernels.Quantized;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Gpt2;
using Loom.Models.Projections;
using Loom.Models.Quantization;

namespace Loom.Compression.Tests.Quantization;

public class QloraTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // lora.base_double_quant: the absmaxes double-quantized (QLoRA §3)
    public void LoraOnAnNf4BaseHasTheGradientsOfLoraOnTheDequantizedBase(bool doubleQuant)
    {
        var config = new Gpt2Config { VocabSize = 200, MaxPositions = 32, Embedding = 64, Layers = 2, Heads = 2 };
        using var f32 = new Gpt2Model(config, ModelOptions.Inference);
        f32.InitializeWeights(7);
        var lora = new LoraOptions { Rank = 4, Alpha = 8, TargetModules = ["c_attn", "c_fc"], Seed = 3 };

        using var qlora = CausalLanguageModels.Create(config, LoraAdapters.CreateModelOptions(lora, config, QuantizedModels.OptionsFrom(f32, QuantFormat.NF4, ModelOptions.Default, doubleQuant: doubleQuant)));
        QuantizedModels.CopyFloatWeights(f32, qlora);
        LoraAdapters.InitializeAdapter(qlora.Parameters, lora.Seed);

        // Reference: the same base with every quantized weight replaced by its NF4 dequantization.
        var specs = LoraAdapters.Projections(config).GroupBy(s => s.WeightIndex).ToDictionary(g => g.Key, g => g.First());
        foreach (var (name, spec) in QuantizedModels.Selectable(config, QuantFormat.NF4, false))
        {
            var v = f32.Parameters.Value(f32.Parameters.IndexOf(name));
            using IQuantizedWeight m = doubleQuant
                ? Nf4DoubleQuantMatrix.Quantize(QuantizedProjection.ToOutIn(spec, v), spec.OutFeatures, spec.InFeatures)
                : QuantizedProjection.QuantizeWeight(spec, v, QuantFormat.NF4);
            var w = new float[v.Length];
            m.DequantizeRows(0, m.Rows, w);
            for (int o = 0; o < m.Rows; o++)
                for (int k = 0; k < m.Columns; k++) v[k * m.Rows + o] = w[o * m.Columns + k];   // Conv1D (in, out)
        }
        using var reference = CausalLanguageModels.Create(config, LoraAdapters.CreateModelOptions(lora, config));
        QuantizedModels.CopyFloatWeights(f32, reference);
        LoraAdapters.InitializeAdapter(reference.Parameters, lora.Seed);
        // A trained-looking B (zero B makes the A gradient vanish).
        foreach (var model in new[] { qlora, reference })
        {
            var rng = new Random(11);
            for (int i = 0; i < model.Parameters.Specs.Count; i++)
                if (model.Parameters.Specs[i].Name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
                {
                    var b = model.Parameters.Value(i);
                    for (int k = 0; k < b.Length; k++) b[k] = (float)(rng.NextDouble() - 0.5) * 0.1f;
                }
        }

        const int batch = 2, time = 12;   // 24 rows: the dequantized-panel GEMMs, forward and backward
        var ids = Enumerable.Range(0, batch * time).Select(i => (i * 31 + 5) % 200).ToArray();
        var targets = ids.Skip(1).Append(0).ToArray();
        float lq = qlora.Forward(ids, targets, batch, time);
        float lr = reference.Forward(ids, targets, batch, time);
        Assert.True(Math.Abs(lq - lr) <= 1e-5 * Math.Abs(lr), $"loss {lq} vs reference {lr}");
        qlora.Parameters.ZeroGradients();
        reference.Parameters.ZeroGradients();
        qlora.Backward();
        reference.Backward();

        Assert.Equal(reference.Parameters.TrainableCount, qlora.Parameters.TrainableCount);
        int compared = 0;
        for (int i = 0; i < qlora.Parameters.Specs.Count; i++)
        {
            var s = qlora.Parameters.Specs[i];
            if (!s.IsTrainable) continue;
            var g = qlora.Parameters.Gradient(i);
            var e = reference.Parameters.Gradient(reference.Parameters.IndexOf(s.Name));
            double scale = 0;
            foreach (var v in e) scale = Math.Max(scale, Math.Abs(v));
            Assert.True(scale > 0, $"{s.Name}: the reference gradient is zero; the test would not see an error");
            for (int k = 0; k < g.Length; k++)
                Assert.True(Math.Abs(g[k] - e[k]) <= 1e-4 * scale + 1e-7, $"{s.Name}[{k}]: {g[k]} vs reference {e[k]}");
            compared++;
        }
        Assert.Equal(8, compared);   // A and B of c_attn and c_fc in 2 layers
        // The quantized weights are frozen and held by their projections: no gradient, no f32 values loaded.
        int held = Enumerable.Range(0, qlora.Parameters.Specs.Count).Count(qlora.Parameters.IsHeldByProjection);
        Assert.Equal(8, held);
        Assert.Throws<InvalidOperationException>(() => qlora.Parameters.Gradient(qlora.Parameters.IndexOf("h.0.attn.c_attn.weight")));
    }
}
