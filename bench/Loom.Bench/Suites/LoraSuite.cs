// The `lora` suite (issue 14 §1): GPT-2 124M training steps at B=4, T=256, full fine-tuning against
// LoRA r=8 on the attention input projection (c_attn, PEFT's GPT-2 default) and on all linear layers
// (PEFT's all-linear: everything but lm_head). Rows per case: s_per_step, tokens_per_s, native_bytes
// (parameters, gradients, AdamW moments, activations: everything planned), trainable_params, and for
// the LoRA cases adapter_bytes (adapter_model.safetensors as written in PEFT's layout); resident_bytes is
// the process working set after the case's steps. The QLoRA case holds the base's projections in NF4
// (issue 15 §3); its native_bytes leave out the f32 slots of those weights, which are never written.
using Loom.Core.Kernels.Quantized;
using Loom.Core.Tensors;
using Loom.Models.Quantization;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Models.Gpt2;
using Loom.Training.Optimizers;

namespace Loom.Bench.Suites;

internal static class LoraSuite
{
    public static void Run(BenchContext ctx)
    {
        const int b = 4, t = 256;
        int steps = ctx.Steps ?? 3;
        var config = new Gpt2Config();
        var cases = new (string Name, LoraOptions? Lora, QuantFormat? Base)[]
        {
            ("full", null, null),
            ("lora r=8 c_attn", new LoraOptions { Rank = 8, Alpha = 16, TargetModules = ["c_attn"] }, null),
            ("lora r=8 all-linear", new LoraOptions { Rank = 8, Alpha = 16, TargetModules = [LoraOptions.AllLinear] }, null),
            // QLoRA (issue 15 §3): the same adapter on a base whose projections are held in NF4.
            ("qlora nf4 r=8 all-linear", new LoraOptions { Rank = 8, Alpha = 16, TargetModules = [LoraOptions.AllLinear] }, QuantFormat.NF4),
        };
        foreach (var (label, lora, baseFormat) in cases)
            foreach (int threads in ctx.Threads)
            {
                string name = $"gpt2-124M B={b} T={t} threads={threads} {label}";
                if (!ctx.Selected(name)) continue;
                var pool = ctx.Pool(threads);
                var options = lora is null ? ModelOptions.Default : LoraAdapters.CreateModelOptions(lora, config);
                Gpt2Model? f32 = null;
                if (baseFormat is QuantFormat bf)
                {
                    f32 = new Gpt2Model(config, ModelOptions.Inference, pool);
                    f32.InitializeWeights(1);
                    options = LoraAdapters.CreateModelOptions(lora!, config, QuantizedModels.OptionsFrom(f32, bf, ModelOptions.Default));
                }
                using var model = new Gpt2Model(config, options, pool);
                if (f32 is null) model.InitializeWeights(1);
                else
                {
                    QuantizedModels.CopyFloatWeights(f32, model);
                    f32.Dispose();
                }
                if (lora != null) LoraAdapters.InitializeAdapter(model.Parameters, 2);
                using var opt = new AdamWOptimizer(model.Parameters, new AdamWOptions(), pool);
                var rng = new Random(1);
                var ids = Enumerable.Range(0, b * t).Select(_ => rng.Next(config.VocabSize)).ToArray();
                var targets = Enumerable.Range(0, b * t).Select(_ => rng.Next(config.VocabSize)).ToArray();
                void Step()
                {
                    model.Parameters.ZeroGradients();
                    model.Forward(ids, targets, b, t);
                    model.Backward();
                    GradientClipping.ClipGlobalNorm(model.Parameters, 1f);
                    opt.Update(6e-4f);
                }
                Step();   // warm-up and plan
                var times = new List<double>();
                for (int s = 0; s < steps; s++)
                {
                    double start = ctx.Now(threads);
                    Step();
                    times.Add(ctx.Now(threads) - start);
                }
                times.Sort();
                double sec = times[times.Count / 2];
                // The f32 slots of weights held quantized are calloc'd and never written: address space, not memory.
                long held = Enumerable.Range(0, model.Parameters.Specs.Count).Where(model.Parameters.IsHeldByProjection).Sum(i => model.Parameters.Specs[i].Count * 4L);
                long native = NativeBuffer.LiveBytes - held;
                GC.Collect();
                long resident = System.Diagnostics.Process.GetCurrentProcess().WorkingSet64;
                ctx.Rows.Add(new BenchRow(name, "resident_bytes", resident, "bytes"));
                ctx.Rows.Add(new BenchRow(name, "s_per_step", Math.Round(sec, 3), "s"));
                ctx.Rows.Add(new BenchRow(name, "tokens_per_s", Math.Round(b * t / sec, 1), "tokens/s"));
                ctx.Rows.Add(new BenchRow(name, "native_bytes", native, "bytes"));
                ctx.Rows.Add(new BenchRow(name, "trainable_params", model.Parameters.TrainableCount, "parameters"));
                string extra = "";
                if (lora != null)
                {
                    string dir = Directory.CreateTempSubdirectory("loom-bench-lora-").FullName;
                    try
                    {
                        LoraAdapters.Save(model.Parameters, config, lora, dir);
                        long bytes = new FileInfo(Path.Combine(dir, LoraAdapters.WeightsFileName)).Length;
                        ctx.Rows.Add(new BenchRow(name, "adapter_bytes", bytes, "bytes"));
                        extra = $"  adapter {bytes / 1e6:F2} MB";
                    }
                    finally { Directory.Delete(dir, recursive: true); }
                }
                Console.WriteLine($"{name,-48} {sec,7:F3} s/step  {b * t / sec,8:F1} tokens/s  native {native / 1e6:F0} MB  resident {resident / 1e6:F0} MB  trainable {model.Parameters.TrainableCount / 1e6:F2}M{extra}");
            }
    }
}
